import type { ReconnectPolicy } from "./contract.js";

/** Reconnect by default: 100 ms, doubling, at most 30 s apart, forever. */
export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = Object.freeze({
  initialDelay: 100,
  maxDelay: 30_000,
  factor: 2,
  maxAttempts: Number.POSITIVE_INFINITY,
});

/**
 * The delay before retry number `attempt` (0 for the first): exponential,
 * capped at `maxDelay`, with full jitter so that many clients cut off by the
 * same broker restart do not all come back in the same instant.
 */
export function backoffDelay(
  policy: ReconnectPolicy,
  attempt: number,
  random = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelay, policy.initialDelay * policy.factor ** attempt);
  return Math.round(random() * ceiling);
}
