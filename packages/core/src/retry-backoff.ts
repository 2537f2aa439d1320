/**
 * The wait before a failed message is tried again: exponential, capped, with
 * jitter, so that the messages of one outage do not all come back in the same
 * instant (the names and meanings of Celery's `retry_backoff`/`retry_jitter`
 * and AWS's "Exponential Backoff And Jitter").
 */

/** How a retry's wait is spread below its exponential ceiling. */
export const BACKOFF_JITTERS = ["full", "equal", "none"] as const;
/**
 * One of {@link BACKOFF_JITTERS}: "full" waits anywhere from 0 to the
 * ceiling, "equal" from half the ceiling to all of it, "none" exactly the
 * ceiling.
 */
export type BackoffJitter = (typeof BACKOFF_JITTERS)[number];

/** The wait before retry n: `min(max, initial * factor^(n-1))`, spread by `jitter`. */
export interface RetryBackoff {
  /** Milliseconds before the first retry (its ceiling, with jitter); default 1 000. */
  initial: number;
  /** Growth per failed delivery; default 2. */
  factor: number;
  /** No wait is longer; default 60 000 ms. */
  max: number;
  /** How the wait is spread below the ceiling; default "full". */
  jitter: BackoffJitter;
}

/** 1 s, doubling, at most a minute, with full jitter. */
export const DEFAULT_RETRY_BACKOFF: Readonly<RetryBackoff> = Object.freeze({
  initial: 1_000,
  factor: 2,
  max: 60_000,
  jitter: "full",
});

/**
 * Whole milliseconds to wait after failed delivery number `deliveryCount`
 * (1 for the first). `random` returns [0, 1), as `Math.random` does; tests
 * pass their own. Rounded up, so that "none" never waits less than the
 * ceiling, and never above `max` (a whole number).
 */
export function retryDelay(
  backoff: Readonly<RetryBackoff>,
  deliveryCount: number,
  random: () => number = Math.random,
): number {
  const { initial, factor, max, jitter } = backoff;
  // initial 0 stays 0 however many attempts (0 * Infinity would be NaN).
  const ceiling = initial === 0 ? 0 : Math.min(max, initial * factor ** (deliveryCount - 1));
  const wait =
    jitter === "none"
      ? ceiling
      : jitter === "equal"
        ? ceiling / 2 + (random() * ceiling) / 2
        : random() * ceiling;
  return Math.ceil(wait);
}
