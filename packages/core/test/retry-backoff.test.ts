import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_BACKOFF, type RetryBackoff, retryDelay } from "../src/retry-backoff.js";

// The wait after failed delivery n: ceiling min(max, initial * factor^(n-1)),
// spread below it by the jitter, with the random source injected.

const backoff = (jitter: RetryBackoff["jitter"], more: Partial<RetryBackoff> = {}) => ({
  ...DEFAULT_RETRY_BACKOFF,
  jitter,
  ...more,
});
const deliveries = [1, 2, 3, 4, 5, 6, 7, 8];
const ceilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];

describe("retry backoff", () => {
  it('"none" waits the ceiling: growing by the factor, capped at max', () => {
    expect(deliveries.map((n) => retryDelay(backoff("none"), n, () => 0.5))).toEqual(ceilings);
  });

  it('"full" waits from 0 up to the ceiling, as random says', () => {
    expect(deliveries.map((n) => retryDelay(backoff("full"), n, () => 0))).toEqual(
      deliveries.map(() => 0),
    );
    expect(deliveries.map((n) => retryDelay(backoff("full"), n, () => 0.5))).toEqual(
      ceilings.map((c) => c / 2),
    );
    // random() is below 1: the wait stays within the ceiling.
    const almostOne = () => 1 - Number.EPSILON;
    expect(deliveries.map((n) => retryDelay(backoff("full"), n, almostOne))).toEqual(ceilings);
  });

  it('"equal" waits from half the ceiling up to it', () => {
    expect(deliveries.map((n) => retryDelay(backoff("equal"), n, () => 0))).toEqual(
      ceilings.map((c) => c / 2),
    );
    expect(deliveries.map((n) => retryDelay(backoff("equal"), n, () => 0.5))).toEqual(
      ceilings.map((c) => (c * 3) / 4),
    );
  });

  it("stays within its bounds for a seeded run of random values, for every jitter", () => {
    const random = seeded(17);
    for (const jitter of ["full", "equal", "none"] as const) {
      for (const n of deliveries) {
        const ceiling = ceilings[n - 1]!;
        const floor = jitter === "full" ? 0 : jitter === "equal" ? ceiling / 2 : ceiling;
        for (let i = 0; i < 50; i++) {
          const wait = retryDelay(backoff(jitter), n, random);
          expect(Number.isInteger(wait)).toBe(true);
          expect(wait).toBeGreaterThanOrEqual(floor);
          expect(wait).toBeLessThanOrEqual(ceiling);
        }
      }
    }
  });

  it("is whole milliseconds, rounded up (never shorter than asked) and never above max", () => {
    const fractional = backoff("none", { initial: 1_000, factor: 1.5, max: 5_000 });
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(fractional, n))).toEqual([
      1_000, 1_500, 2_250, 3_375, 5_000, 5_000,
    ]);
    expect(retryDelay(backoff("full", { initial: 3 }), 1, () => 0.5)).toBe(2);
  });

  it("an initial of 0 is always 0, however many attempts (no NaN from 0 * Infinity)", () => {
    expect(retryDelay(backoff("none", { initial: 0 }), 1)).toBe(0);
    expect(retryDelay(backoff("equal", { initial: 0 }), 5_000)).toBe(0);
  });

  it("a huge attempt number is capped at max", () => {
    expect(retryDelay(backoff("none"), 10_000)).toBe(60_000);
  });
});

/** A small deterministic generator (mulberry32): the same values on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
