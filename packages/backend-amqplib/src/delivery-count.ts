import type { QueueDeclaration } from "@carrot/core/backend";
import type { Message } from "amqplib";

/**
 * Whether a queue this connection declared is a quorum queue, the one kind
 * whose deliveries carry RabbitMQ's `x-delivery-count`.
 *
 * A consumer cannot ask: AMQP's queue.declare-ok names the queue and counts
 * its messages and consumers, nothing more, and a delivery does not say
 * what kind of queue it came from. On a classic queue, `x-delivery-count`
 * is whatever the publisher wrote (a forged header, or one copied from a
 * message that came from a quorum queue), so the count is read only from
 * queues this connection declared as quorum; from any other queue the
 * delivery has none and core counts a redelivery as the second delivery.
 * A wrong count is worse than none: a too-high one would end a message's
 * retries early.
 */
export function isQuorumQueue(queue: QueueDeclaration | undefined): boolean {
  const args = queue?.arguments;
  return args?.queueType === "quorum" || args?.["x-queue-type"] === "quorum";
}

/**
 * How many times a quorum queue has delivered this message, this delivery
 * included. RabbitMQ 3.10 writes `x-delivery-count` (the deliveries before
 * this one: requeued, or held by a consumer whose channel or connection
 * died) on every redelivery, replacing a header of that name the publisher
 * set; on a first delivery basic.consume leaves the header as published and
 * basic.get writes 0. So the header is the broker's only on a delivery
 * marked `redelivered`, and a first delivery is 1 whatever it holds.
 * Undefined (core falls back to `redelivered`) if a redelivery lacks it.
 */
export function quorumDeliveryCount(message: Message): number | undefined {
  if (!message.fields.redelivered) return 1;
  const count: unknown = message.properties.headers?.["x-delivery-count"];
  return typeof count === "number" && Number.isSafeInteger(count) && count >= 0
    ? count + 1
    : undefined;
}
