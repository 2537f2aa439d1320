// Dead-lettering for a broker without AMQP semantics. When a message is
// rejected, expires or overflows its queue, RabbitMQ republishes it through
// the queue's dead-letter exchange with an `x-death` record that says where
// and why it died, and code reading that record expects it on every broker.
// A backend asks `deadLetterTarget` where a dead letter goes (if anywhere),
// publishes `deadLetterMessage` there with its own routing, and passes a
// failed publish to `unpublishedDeadLetter`: the decision, the record and the
// failure policy live here once, the moving of bytes stays the backend's.

import type { Headers, QueueArguments, RawMessage } from "../contract.js";
import { isRecord } from "../envelope-json.js";
import { NotFoundError } from "../errors.js";
import { isTransientPublishError } from "../publish-failures.js";

/** Why a message died, in RabbitMQ's words (its `delivery_limit` has no carrot equivalent). */
export const DEAD_LETTER_REASONS = ["rejected", "expired", "maxlen"] as const;
/** One of {@link DEAD_LETTER_REASONS}. */
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** Whether a value read back from a store or header is one of {@link DEAD_LETTER_REASONS}. */
export function isDeadLetterReason(value: unknown): value is DeadLetterReason {
  return DEAD_LETTER_REASONS.includes(value as DeadLetterReason);
}

/** Where a message was when it died. */
export interface DeadLetterOrigin {
  /** The queue it died in. */
  queue: string;
  /** The exchange the message was last published to. */
  exchange: string;
  /** The routing key it was last published with. */
  routingKey: string;
  /** Rejected without requeue, expired, or pushed out by `maxLength`. */
  reason: DeadLetterReason;
}

/**
 * One entry of `x-death`, the schema of RabbitMQ 3.10 (as its amqplib
 * backend reads it here): one entry per (queue, reason), newest first.
 */
export interface DeathRecord {
  /** How many times the message died in this queue for this reason. */
  count: number;
  /** Why it died (with `queue`, what the entry is for). */
  reason: DeadLetterReason;
  /** The queue it died in. */
  queue: string;
  /** When it first died there, in whole seconds (an AMQP timestamp). */
  time: Date;
  /** The exchange it had been published to when it first died there. */
  exchange: string;
  /** The routing key it had been published with, as a list (AMQP's CC keys would follow it). */
  "routing-keys": string[];
  /** The message's own `expiration` (ms, as text, as AMQP carries it), removed from the dead letter. */
  "original-expiration"?: string;
}

/** Where a queue's dead letters are published. */
export interface DeadLetterTarget {
  /** The queue's `deadLetterExchange`. */
  exchange: string;
  /** The queue's `deadLetterRoutingKey`, else the message's own routing key. */
  routingKey: string;
}

/**
 * The header a dead letter carries when its backend could not read the
 * message (`RawMessage.unreadable`): that error's message. Such a letter
 * is the body as it arrived, with this header and the `x-death` record; the
 * envelope that could not be read is not carried: carrot cannot re-encode
 * what it could not decode, and passing it on as it was would leave the
 * dead letter unreadable too, with no place for its `x-death` record.
 */
export const UNREADABLE_HEADER = "x-carrot-unreadable";

/**
 * The queue's dead-letter exchange and the routing key to publish with (its
 * `deadLetterRoutingKey`, else the message's own), or undefined when the
 * queue has none: its dead messages are dropped. Arguments read back from a
 * broker's store are checked, not trusted.
 */
export function deadLetterTarget(
  args: QueueArguments,
  routingKey: string,
): DeadLetterTarget | undefined {
  const { deadLetterExchange: exchange, deadLetterRoutingKey: key } = args;
  if (typeof exchange !== "string") return undefined;
  return { exchange, routingKey: typeof key === "string" ? key : routingKey };
}

/**
 * The copy to publish: the message's headers plus its updated `x-death`
 * record, and its properties without `expiration`, so that it does not
 * expire again wherever it goes (RabbitMQ keeps it as the record's
 * `original-expiration`). `now` in ms.
 */
export function deadLetterMessage(
  message: RawMessage,
  origin: DeadLetterOrigin,
  now = Date.now(),
): RawMessage {
  const { expiration, ...properties } = message.properties;
  const headers = deadLetterHeaders(message.headers, origin, expiration, now);
  if (message.unreadable) headers[UNREADABLE_HEADER] = message.unreadable.message;
  const { body, contentType, contentEncoding } = message;
  return { body, contentType, contentEncoding, headers, properties };
}

/**
 * The queues, among those `queues` a dead letter was routed to, that it may
 * be delivered to. As in RabbitMQ, a dead letter is not delivered to a queue
 * it already died in when no death on the way back round was a rejection: a
 * queue whose expired or overflowing messages come back to it would
 * otherwise pass them round for ever. A cycle with a rejection in it is a
 * consumer's choice and goes on. `message` is the dead letter, its `x-death`
 * record updated (`deadLetterMessage`).
 */
export function deadLetterQueues(message: RawMessage, queues: readonly string[]): string[] {
  const deaths = message.headers["x-death"];
  if (!Array.isArray(deaths)) return [...queues];
  return queues.filter((queue) => !closesCycle(queue, deaths));
}

/** Whether the deaths since the message was last in `queue` (that one included) are all automatic. */
function closesCycle(queue: string, deaths: readonly unknown[]): boolean {
  const last = deaths.findIndex((d) => isRecord(d) && d.queue === queue);
  if (last < 0) return false;
  return deaths.slice(0, last + 1).every((d) => isRecord(d) && d.reason !== "rejected");
}

/**
 * A dead letter whose publish failed. A failed connection says nothing of
 * the message: the error is rethrown, so that the message stays where it
 * was for a retry. Anything else would fail again, and as in RabbitMQ the
 * message is dropped rather than kept for ever: returned is the error worth
 * reporting, none for a dead-letter exchange that does not exist (which
 * RabbitMQ drops silently).
 */
export function unpublishedDeadLetter(error: unknown): Error | undefined {
  if (isTransientPublishError(error)) throw error;
  return error instanceof NotFoundError ? undefined : (error as Error);
}

/**
 * RabbitMQ's rules: a death in a (queue, reason) already on record counts
 * there and moves that entry to the front, as it was otherwise; a new one is
 * prepended. An `x-death` that is not a list starts again; entries that are
 * not records are kept as they are. The `x-first-death-*` headers are set
 * once, together.
 */
function deadLetterHeaders(
  headers: Headers,
  { queue, exchange, routingKey, reason }: DeadLetterOrigin,
  expiration: number | undefined,
  now: number,
): Headers {
  const previous = headers["x-death"];
  const deaths = Array.isArray(previous) ? previous.slice() : [];
  const index = deaths.findIndex((d) => isRecord(d) && d.queue === queue && d.reason === reason);
  let death: DeathRecord;
  if (index >= 0) {
    const found = deaths.splice(index, 1)[0] as DeathRecord;
    death = { ...found, count: (Number.isSafeInteger(found.count) ? found.count : 0) + 1 };
  } else {
    const time = new Date(now - (now % 1000));
    death = { count: 1, reason, queue, time, exchange, "routing-keys": [routingKey] };
    if (expiration !== undefined) death["original-expiration"] = String(expiration);
  }
  deaths.unshift(death);
  const xDeath = deaths as Headers[string];
  // Spreads define own properties: a header named `__proto__` stays a header.
  if (headers["x-first-death-reason"] !== undefined) return { ...headers, "x-death": xDeath };
  return {
    ...headers,
    "x-death": xDeath,
    "x-first-death-reason": reason,
    "x-first-death-queue": queue,
    "x-first-death-exchange": exchange,
  };
}
