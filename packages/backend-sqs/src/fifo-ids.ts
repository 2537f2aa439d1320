import { createHash, randomUUID } from "node:crypto";
import { type PublishRequest, UnsupportedFeatureError } from "@carrot/core/backend";
import type { QueueInfo } from "./queue-directory.js";

/** The group of messages sent to a FIFO queue without one: then the queue keeps one order for all of them. */
export const DEFAULT_GROUP_ID = "default";

/** SQS takes 1-128 characters of printable ASCII for both ids. */
const VALID_ID = /^[\x21-\x7e]{1,128}$/;

/** The id fields of one SendMessageBatch entry. */
export interface MessageIds {
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/**
 * The SQS ids of one message for one target queue, from the send's
 * `groupId` and `deduplicationId`. Ids SQS would refuse are hashed.
 *
 * FIFO queue: the group is `groupId`, else "default". The deduplication id is
 * `deduplicationId`, else the message's `messageId`, else none where the
 * queue deduplicates by content, else a random one (every send is then a
 * distinct message).
 *
 * Standard queue: `groupId` is the fair-queue tenant (no order, no one at a
 * time). A `deduplicationId` is refused, as SQS refuses it: standard queues
 * never deduplicate, and dropping the id silently would promise what SQS
 * does not do.
 */
export function messageIds(request: PublishRequest, queue: QueueInfo): MessageIds {
  const { groupId, deduplicationId } = request;
  if (!queue.fifo) {
    if (deduplicationId !== undefined) {
      throw new UnsupportedFeatureError(
        `the sqs backend cannot deduplicate on standard queue '${queue.name}' (deduplicationId '${deduplicationId}'): only FIFO queues (named *.fifo) do; nothing was sent`,
      );
    }
    return groupId === undefined ? {} : { MessageGroupId: valid(groupId) };
  }
  const ids: MessageIds = { MessageGroupId: valid(groupId ?? DEFAULT_GROUP_ID) };
  const dedup = deduplicationId ?? request.message.properties.messageId;
  if (typeof dedup === "string" && dedup !== "") ids.MessageDeduplicationId = valid(dedup);
  else if (!queue.contentBasedDeduplication) ids.MessageDeduplicationId = randomUUID();
  return ids;
}

function valid(id: string): string {
  return VALID_ID.test(id) ? id : createHash("sha256").update(id).digest("base64url");
}
