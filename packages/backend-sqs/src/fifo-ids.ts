import { createHash, randomUUID } from "node:crypto";
import type { RawMessage } from "@carrot/core/backend";
import type { QueueInfo } from "./queue-directory.js";

/** Headers that set a FIFO message's group and deduplication ids (carrot's send options have no SQS-only fields). */
export const GROUP_ID_HEADER = "x-sqs-group-id";
export const DEDUPLICATION_ID_HEADER = "x-sqs-deduplication-id";
/** The group of messages sent without one: then a FIFO queue keeps one order for all of them. */
export const DEFAULT_GROUP_ID = "default";

/** SQS takes 1-128 characters of printable ASCII for both ids. */
const VALID_ID = /^[\x21-\x7e]{1,128}$/;

export interface FifoIds {
  MessageGroupId: string;
  MessageDeduplicationId?: string;
}

/**
 * Group id: the `x-sqs-group-id` header, else "default". Deduplication id:
 * the `x-sqs-deduplication-id` header, else the message's `messageId`, else
 * none where the queue deduplicates by content, else a random one (every
 * send is then a distinct message). Ids SQS would refuse are hashed.
 */
export function fifoIds(message: RawMessage, queue: QueueInfo): FifoIds {
  const group = message.headers[GROUP_ID_HEADER];
  const dedup = message.headers[DEDUPLICATION_ID_HEADER] ?? message.properties.messageId;
  const ids: FifoIds = {
    MessageGroupId: valid(typeof group === "string" ? group : DEFAULT_GROUP_ID),
  };
  if (typeof dedup === "string" && dedup !== "") ids.MessageDeduplicationId = valid(dedup);
  else if (!queue.contentBasedDeduplication) ids.MessageDeduplicationId = randomUUID();
  return ids;
}

function valid(id: string): string {
  return VALID_ID.test(id) ? id : createHash("sha256").update(id).digest("base64url");
}
