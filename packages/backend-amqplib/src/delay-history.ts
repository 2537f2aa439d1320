import { type Headers, type HeaderValue, newHeaders } from "@carrot/core/backend";
import { DELAY_PREFIX } from "./delay-topology.js";

/**
 * A delayed message's dead-letter history, kept out of RabbitMQ's sight
 * while the message waits in a delay queue, and the delay queue's own
 * traces taken off when it arrives: a delayed message arrives with the
 * headers its undelayed twin would have.
 *
 * Why the history cannot travel as it is: a delay queue dead-letters its
 * messages, and RabbitMQ before 4.0.1 reads the `x-death` a client
 * published when it does. It drops a message whose history shows it
 * reached its target queue before with no rejection since (a "dead-letter
 * cycle": a message that once expired from, or overflowed, a queue and is
 * sent back to it with a delay), and it crashes the delay queue on an
 * `x-death` that is not a list of tables with numeric counts (seen with
 * 3.10.8: the queue is gone, every message in it lost). Celery drops these
 * headers from its delayed retries for the same reason (celery#10095).
 */

/** The carrot header that holds a delayed message's dead-letter headers meanwhile: a table of them. */
export const DELAYED_HISTORY = "x-carrot-delayed-history";

const DEATHS = "x-death";
const FIRST_DEATH = "x-first-death-";
/** RabbitMQ 3.13 and later. */
const LAST_DEATH = "x-last-death-";
const EVENT_FIELDS = ["exchange", "queue", "reason"] as const;
const HISTORY = [
  DEATHS,
  ...EVENT_FIELDS.map((field) => FIRST_DEATH + field),
  ...EVENT_FIELDS.map((field) => LAST_DEATH + field),
];

type Table = { [key: string]: HeaderValue };

/** The headers to publish to a delay queue: the dead-letter ones moved into {@link DELAYED_HISTORY}. */
export function stashHistory(headers: Headers): Headers {
  if (!HISTORY.some((name) => headers[name] !== undefined)) return headers;
  const kept = newHeaders();
  const history = newHeaders();
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) (HISTORY.includes(name) ? history : kept)[name] = value;
  }
  kept[DELAYED_HISTORY] = history;
  return kept;
}

/**
 * The headers of a message received from any queue. Unless RabbitMQ
 * dead-lettered it from a delay queue (an `x-death` entry naming a
 * `carrot.delay.` queue, expired), they are returned as they are. Else the
 * delay queue's entry goes, the stashed history comes back (an event it and
 * the later ones share, same queue and reason, counted once with both
 * counts, as RabbitMQ counts a repeated event), and the first and last
 * death headers are the history's. Total: a forged history of any shape is
 * kept as it is, never an exception.
 */
export function restoreHistory(headers: Headers): Headers {
  const deaths = headers[DEATHS];
  if (!Array.isArray(deaths) || !deaths.some(isDelayDeath)) return headers;
  const later = deaths.filter((death) => !isDelayDeath(death));
  const stashed = headers[DELAYED_HISTORY];
  const stash = isTable(stashed) ? stashed : newHeaders();
  const restored = newHeaders();
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HISTORY.includes(name) && name !== DELAYED_HISTORY)
      restored[name] = value;
  }
  const earlier = stash[DEATHS];
  const history = Array.isArray(earlier) ? merged(later, earlier) : later;
  if (history.length > 0) restored[DEATHS] = history;
  else if (earlier !== undefined) restored[DEATHS] = earlier;
  restoreEvent(FIRST_DEATH, headers, stash, later.at(-1), restored);
  restoreEvent(LAST_DEATH, headers, stash, later[0], restored);
  return restored;
}

/**
 * The first (or last) death headers: as received unless they name the
 * delay queue; then the stashed ones, or else those of the oldest (or
 * newest) event after the delay, or none.
 */
function restoreEvent(
  prefix: string,
  headers: Headers,
  stash: Table,
  after: HeaderValue | undefined,
  restored: Headers,
): void {
  const received = headers[`${prefix}queue`];
  const fromDelay = typeof received === "string" && received.startsWith(DELAY_PREFIX);
  const stashed = EVENT_FIELDS.some((field) => stash[prefix + field] !== undefined);
  for (const field of EVENT_FIELDS) {
    const value = !fromDelay
      ? headers[prefix + field]
      : stashed
        ? stash[prefix + field]
        : isTable(after)
          ? after[field]
          : undefined;
    if (value !== undefined) restored[prefix + field] = value;
  }
}

/** The events after the delay, newest first, then the earlier ones; an event in both once, its counts added. */
function merged(later: readonly HeaderValue[], earlier: readonly HeaderValue[]): HeaderValue[] {
  const rest = [...earlier];
  const events = later.map((event) => {
    const i = rest.findIndex((old) => sameEvent(old, event));
    if (i < 0) return event;
    const old = rest.splice(i, 1)[0] as Table;
    const count = (old.count as number) + ((event as Table).count as number);
    return Object.assign(newHeaders(), old, { count });
  });
  return [...events, ...rest];
}

/** Same queue and reason, both with numeric counts: RabbitMQ counts such events in one entry. */
function sameEvent(a: HeaderValue, b: HeaderValue): boolean {
  return (
    isTable(a) &&
    isTable(b) &&
    typeof a.queue === "string" &&
    a.queue === b.queue &&
    typeof a.reason === "string" &&
    a.reason === b.reason &&
    Number.isFinite(a.count) &&
    Number.isFinite(b.count)
  );
}

/** The entry RabbitMQ writes when a delay queue lets a message go. */
function isDelayDeath(death: HeaderValue): boolean {
  return (
    isTable(death) &&
    death.reason === "expired" &&
    typeof death.queue === "string" &&
    death.queue.startsWith(DELAY_PREFIX)
  );
}

function isTable(value: HeaderValue | undefined): value is Table {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  );
}
