/**
 * The consumer's failure policy as written (`retry` option) and as it runs:
 * every field resolved and checked when the Consumer is made, so that a
 * mistake fails there, not when the first message fails.
 */
import type { QueueArguments } from "./contract.js";
import { InvalidOptionsError } from "./errors.js";
import { checkNumber, MAX_TIMER_MS, type NumberRange } from "./number-options.js";
import { checkOptionNames, RETRY_BACKOFF_NAMES, RETRY_POLICY_NAMES } from "./option-names.js";
import { BACKOFF_JITTERS, DEFAULT_RETRY_BACKOFF, type RetryBackoff } from "./retry-backoff.js";

/** What happens to a message whose last attempt failed. */
export const EXHAUSTED_ACTIONS = ["dead-letter", "failed-queue", "drop"] as const;
/**
 * One of {@link EXHAUSTED_ACTIONS}:
 * - "dead-letter": published, with its failure record, to the queue's
 *   `deadLetterExchange` (routing key: `deadLetterRoutingKey`, else its own);
 *   where that exchange routes it nowhere, to the failed queue instead.
 * - "failed-queue": published, with its failure record, to the failed queue
 *   (`<queue>.failed`, or the backend's own name for it), declared when first needed.
 * - "drop": rejected; the broker drops it (or dead-letters it, without a
 *   failure record, where the queue has a dead-letter exchange).
 */
export type ExhaustedAction = (typeof EXHAUSTED_ACTIONS)[number];

/**
 * The consumer option `retry`: how often a failing message is tried, how
 * long apart, and where it goes when every attempt failed. Every field has
 * a default.
 */
export interface RetryPolicy {
  /**
   * Deliveries in all, the first included (`message.deliveryCount` counts
   * them); default 3. `Infinity` retries without end.
   */
  attempts?: number;
  /** The wait before each retry; default 1 s, doubling, at most 60 s, full jitter. */
  backoff?: Partial<RetryBackoff>;
  /**
   * What happens after the last attempt failed; default "dead-letter" when
   * the queue has a `deadLetterExchange`, else "failed-queue": never a
   * silent drop.
   */
  exhausted?: ExhaustedAction;
}

/** The policy in force: every field set. */
export interface ResolvedRetryPolicy {
  readonly attempts: number;
  readonly backoff: Readonly<RetryBackoff>;
  readonly exhausted: ExhaustedAction;
}

/** Deliveries of a failing message unless `retry.attempts` says otherwise. */
export const DEFAULT_RETRY_ATTEMPTS = 3;

const ATTEMPTS_RANGE: NumberRange = { min: 1, infinity: "to retry without end" };
const WAIT_RANGE: NumberRange = { min: 0, max: MAX_TIMER_MS, unit: "milliseconds" };
const FACTOR_RANGE: NumberRange = { min: 1, fractional: true };
const DEFAULT = DEFAULT_RETRY_BACKOFF;

/**
 * The policy for a consumer of a queue with `queueArguments`, its defaults
 * under what `input` gives; InvalidOptionsError for a misspelt name (naming
 * the closest), a value out of range, "dead-letter" on a queue without a
 * dead-letter exchange, or a policy on a noAck consumer.
 */
export function resolveRetryPolicy(
  input: RetryPolicy | undefined,
  queueArguments: QueueArguments | undefined,
  noAck: boolean,
): ResolvedRetryPolicy {
  if (input !== undefined) {
    checkOptionNames(input, RETRY_POLICY_NAMES, "in retry");
    if (noAck) {
      throw new InvalidOptionsError(
        "retry needs acknowledgements, and a noAck consumer has none: the broker forgets each message as it sends it, so a failed one cannot be tried again. Remove noAck, or the retry option",
      );
    }
  }
  const attempts = checkNumber("retry.attempts", input?.attempts, ATTEMPTS_RANGE);
  const backoff = resolveBackoff(input?.backoff);
  const deadLetterExchange = queueArguments?.deadLetterExchange;
  const exhausted =
    input?.exhausted ?? (deadLetterExchange === undefined ? "failed-queue" : "dead-letter");
  if (!(EXHAUSTED_ACTIONS as readonly unknown[]).includes(exhausted))
    throw new InvalidOptionsError(
      `retry.exhausted must be ${quotedList(EXHAUSTED_ACTIONS)}, got ${shown(exhausted)}`,
    );
  if (exhausted === "dead-letter" && deadLetterExchange === undefined) {
    throw new InvalidOptionsError(
      'retry.exhausted is "dead-letter" but the queue has no dead-letter exchange: set queueArguments.deadLetterExchange, or use exhausted: "failed-queue"',
    );
  }
  return { attempts: attempts ?? DEFAULT_RETRY_ATTEMPTS, backoff, exhausted };
}

function resolveBackoff(input: Partial<RetryBackoff> | undefined): Readonly<RetryBackoff> {
  if (input === undefined) return DEFAULT;
  checkOptionNames(input, RETRY_BACKOFF_NAMES, "in retry.backoff");
  // Field by field: a key given as undefined takes the default, as an absent one does.
  const backoff: RetryBackoff = {
    initial: checkNumber("retry.backoff.initial", input.initial, WAIT_RANGE) ?? DEFAULT.initial,
    factor: checkNumber("retry.backoff.factor", input.factor, FACTOR_RANGE) ?? DEFAULT.factor,
    max: checkNumber("retry.backoff.max", input.max, WAIT_RANGE) ?? DEFAULT.max,
    jitter: input.jitter ?? DEFAULT.jitter,
  };
  if (!(BACKOFF_JITTERS as readonly unknown[]).includes(backoff.jitter))
    throw new InvalidOptionsError(
      `retry.backoff.jitter must be ${quotedList(BACKOFF_JITTERS)}, got ${shown(backoff.jitter)}`,
    );
  return Object.freeze(backoff);
}

function quotedList(values: readonly string[]): string {
  const quoted = values.map((value) => `"${value}"`);
  return `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}

/** A value of the wrong kind, shown short: text quoted, other primitives as they print, else its type. */
function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "object" || typeof value === "function" || typeof value === "symbol")
    return value === null ? "null" : `a ${typeof value}`;
  return String(value);
}
