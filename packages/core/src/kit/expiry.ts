// Virtual TTL and length limits for a broker that has neither. RabbitMQ
// expires a message at the smaller of its queue's `messageTtl` and its own
// `expiration`, counted from when the queue stored it, and dead-letters it
// as "expired" once it reaches the head of the queue (even with no consumer
// reading: the backend needs a timer or a sweeper for that); a queue over
// its `maxLength` drops its oldest messages, dead-lettered as "maxlen".
// A backend stores the deadline with the message and asks these rules; a
// backend that must decide atomically inside the broker (a Redis script)
// keeps the same rules there.

import type { QueueArguments } from "../contract.js";

/**
 * How long (ms) a message may wait in the queue: the smaller of the queue's
 * `messageTtl` and the message's `expiration`, or undefined when neither is
 * set. Its deadline is this after the queue stored it; asked first, so that
 * a message that cannot expire costs no clock reading.
 */
export function timeToLive(
  args: QueueArguments,
  expiration: number | undefined,
): number | undefined {
  const ttl = args.messageTtl;
  return ttl === undefined
    ? expiration
    : expiration === undefined
      ? ttl
      : Math.min(ttl, expiration);
}

/** Expired at `now` (in the clock the deadline was set with): reached, not just near. */
export function isExpired(deadline: number | undefined, now: number): boolean {
  return deadline !== undefined && deadline <= now;
}

/**
 * How many of the oldest messages a queue holding `length` must give up
 * (RabbitMQ's default overflow, `drop-head`): dead-lettered as "maxlen"
 * when the queue has a dead-letter exchange, else dropped.
 */
export function overflowCount(args: QueueArguments, length: number): number {
  const max = args.maxLength;
  return max === undefined ? 0 : Math.max(0, length - max);
}
