import type { Headers } from "../contract.js";

export type DeadLetterReason = "rejected" | "expired" | "maxlen";

/** Where a message was when it died. */
export interface DeadLetterOrigin {
  queue: string;
  exchange: string;
  routingKey: string;
  reason: DeadLetterReason;
}

/**
 * The headers of a dead-lettered message on a virtual backend: the message's
 * own headers plus RabbitMQ's `x-death` record (newest first) and its
 * `x-first-death-*` headers, so that code reading them works on every broker.
 */
export function deadLetterHeaders(
  headers: Headers,
  { queue, exchange, routingKey, reason }: DeadLetterOrigin,
): Headers {
  const previous = headers["x-death"];
  return {
    ...headers,
    "x-death": [
      { count: 1, reason, queue, exchange, "routing-keys": [routingKey], time: new Date() },
      ...(Array.isArray(previous) ? previous : []),
    ],
    "x-first-death-reason": headers["x-first-death-reason"] ?? reason,
    "x-first-death-queue": headers["x-first-death-queue"] ?? queue,
    "x-first-death-exchange": headers["x-first-death-exchange"] ?? exchange,
  };
}
