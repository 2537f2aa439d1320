import type { BatchResultErrorEntry, SendMessageBatchCommandOutput } from "@aws-sdk/client-sqs";
import {
  type CarrotError,
  ConnectionLostError,
  clientError,
  PublishNackedError,
  PublishOutcomeUnknownError,
} from "@carrot/core/backend";
import { isClientFault, translateAwsError } from "./aws-errors.js";
import { bodyIntact } from "./body-checksum.js";

/**
 * One outcome per SendMessageBatch entry: a refused entry fails only its
 * own send, and so does one that SQS stored with another body than was sent.
 */
export function publishFailures(
  entries: readonly { body: string }[],
  { Successful = [], Failed = [] }: SendMessageBatchCommandOutput,
): (Error | undefined)[] {
  const outcomes: (Error | undefined)[] = new Array(entries.length).fill(undefined);
  for (const entry of Successful) {
    const index = Number(entry.Id);
    if (!bodyIntact((entries[index] as { body: string }).body, entry.MD5OfMessageBody)) {
      outcomes[index] = new PublishOutcomeUnknownError(
        "SQS stored the message with another body than was sent (its MD5 differs): it was changed on the way, and the changed copy is on the queue",
      );
    }
  }
  for (const entry of Failed) {
    outcomes[Number(entry.Id)] = new PublishNackedError(
      `SQS refused the message (${entry.Code}): ${entry.Message ?? "no reason given"}; it was not sent`,
    );
  }
  return outcomes;
}

/**
 * A whole SendMessageBatch failed. A refusal (a client fault: bad request,
 * access denied) means nothing was stored; anything else (network, timeout,
 * server error after the SDK's retries) leaves the outcome unknown.
 */
publishFailures.whole = (error: unknown, where: string): Error =>
  isClientFault(error)
    ? clientError(
        PublishNackedError,
        `SQS at ${where} refused the batch: ${(error as Error).name}: ${(error as Error).message}`,
        error,
      )
    : clientError(
        PublishOutcomeUnknownError,
        `the send to SQS at ${where} failed (${(error as Error).name}); the message may or may not be on the queue`,
        error,
      );

/** One outcome per DeleteMessageBatch / ChangeMessageVisibilityBatch entry. */
export function settleFailures(
  count: number,
  failed: BatchResultErrorEntry[],
  action: string,
): (Error | undefined)[] {
  const outcomes: (Error | undefined)[] = new Array(count).fill(undefined);
  for (const entry of failed) {
    outcomes[Number(entry.Id)] = new ConnectionLostError(
      `SQS could not ${action} the message (${entry.Code}): its receipt is no longer valid (the lease ran out), so SQS will deliver it again`,
    );
  }
  return outcomes;
}

/**
 * A whole DeleteMessageBatch / ChangeMessageVisibilityBatch failed. A
 * refusal (access denied, a bad request) is translated as any SDK error;
 * anything else (network, timeout, server error after the SDK's retries) is
 * a lost connection: SQS delivers the message again unless the request
 * reached it.
 */
settleFailures.whole = (error: unknown, where: string, action: string): CarrotError =>
  isClientFault(error)
    ? translateAwsError(error, where, `${action} a message`)
    : clientError(
        ConnectionLostError,
        `the request to ${action} the message failed on its way to SQS at ${where} (${(error as Error).name}); unless SQS carried it out, it will deliver the message again`,
        error,
      );
