import type { RenewLeases } from "@carrot/core/backend";
import type { SqsBatches } from "./sqs-batches.js";

/** A ChangeMessageVisibilityBatch takes 10 entries: the most one renewal asks for. */
export const RENEWAL_BATCH = 10;

/**
 * The renew hook of core's LeaseKeeper for SQS, whose leases are grouped by
 * queue URL: a batch of renewals (at most RENEWAL_BATCH, made in one turn)
 * goes out as one ChangeMessageVisibilityBatch. SQS gives a renewed message
 * the seconds asked, and caps a message's visibility at 12 hours from
 * receipt (the keeper's maximum hold). A refused entry is reported, not
 * taken as lost: SQS does not say whether another consumer has it.
 */
export function changeVisibilities(batches: SqsBatches): RenewLeases<string> {
  return async (queueUrl, batch) => {
    const outcomes = await Promise.allSettled(
      batch.map(({ id, seconds }) => batches.changeVisibility(queueUrl, id, seconds)),
    );
    const failed = outcomes.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
    return undefined;
  };
}
