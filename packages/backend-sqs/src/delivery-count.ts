import type { Message } from "@aws-sdk/client-sqs";
import { dueTime, receiveCount } from "./delayed-delivery.js";

/**
 * The delivery count of a received message (`DeliveryInfo.deliveryCount`):
 * how many times SQS delivered it, this delivery included, from SQS's own
 * `ApproximateReceiveCount`, less the receives that only held a delayed
 * message back, plus the deliveries of the message before this copy of it
 * was sent (`carrot-deliveries`, on a copy carrot re-sent: see
 * message-copies.ts).
 */

/** Deliveries of the message before this copy was sent (Number; absent: none). */
export const DELIVERIES_ATTRIBUTE = "carrot-deliveries";

/**
 * How many times SQS delivered this message, this delivery included.
 *
 * A hold keeps a copy invisible until it is due, or for `holdSeconds` at
 * most (delayed-delivery.ts); a copy first received at F and due at D
 * (F < D) was thus held ceil((D - F) / holdSeconds) times: once for a delay
 * up to about 12 hours (holdSeconds is then SQS's limit), and those receives
 * are left out. Exact, except:
 * - a hold that never happened (the process died between the receive and
 *   the hold, or the hold's request failed) counts as a delivery;
 * - past one hold span, a copy nobody received while it was visible was held
 *   fewer times than reckoned, which counts deliveries short (never below 1);
 * - on a FIFO queue, a receive that delivered nothing and was given back
 *   (a message behind a held one of its group in one batch, or one a
 *   closing consumer's last long poll took) counts: there the message cannot
 *   be re-sent as a copy, and SQS counts every receive;
 * - likewise on a standard queue with a native RedrivePolicy
 *   (`x-max-receive-count`), where a copy would restart SQS's own count.
 */
export function deliveryCount(message: Message, holdSeconds: number): number {
  const before = deliveriesBefore(message);
  const received = receiveCount(message);
  const due = dueTime(message);
  if (due === undefined) return before + received;
  const first = Number(message.Attributes?.ApproximateFirstReceiveTimestamp);
  if (!Number.isFinite(first) || first >= due) return before + received;
  const holds = Math.ceil((due - first) / (holdSeconds * 1000));
  return before + Math.max(1, received - holds);
}

/** The copy's `carrot-deliveries`, or 0 when it has none that reads as a count. */
function deliveriesBefore(message: Message): number {
  const value = message.MessageAttributes?.[DELIVERIES_ATTRIBUTE]?.StringValue;
  if (value === undefined) return 0;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : 0;
}
