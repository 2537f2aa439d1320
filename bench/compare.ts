import { rate } from "./payload.js";

export type Side = "raw" | "carrot";

export interface Figures {
  rawMsgsPerSec: number;
  carrotMsgsPerSec: number;
  ratio: number;
}

/** Runs per side, from BENCH_ROUNDS (default 5). */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** BENCH_VERBOSE=1 prints every round's result (to stderr), to see drift that medians hide. */
const VERBOSE = Boolean(process.env.BENCH_VERBOSE);

/**
 * Runs the raw client and carrot alternately, ROUNDS times each; `run`
 * returns the milliseconds its side took for `count` messages. Compares the
 * medians: on a shared 2-core machine single runs swing by a third or more.
 */
export async function compareSides(
  count: number,
  run: (side: Side) => Promise<number>,
): Promise<Figures> {
  const { raw, carrot } = await medianRates(count, ["raw", "carrot"], run);
  return { rawMsgsPerSec: raw, carrotMsgsPerSec: carrot, ratio: ratio(carrot, raw) };
}

/**
 * Messages per second of each of `sides`, run in turn as compareSides runs
 * raw and carrot, from the median of their ROUNDS runs.
 */
export async function medianRates<S extends string>(
  count: number,
  sides: readonly S[],
  run: (side: S) => Promise<number>,
): Promise<Record<S, number>> {
  const times = await inTurns(sides, run);
  return Object.fromEntries(
    sides.map((side) => [side, rate(count, median(times[side]))]),
  ) as Record<S, number>;
}

/** `a` / `b`, to two decimals. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

/**
 * Runs both sides alternately as compareSides does and returns, for each
 * figure `run` reports, its median per side: for measures that are not a
 * rate (latency percentiles).
 */
export async function alternateRounds<K extends string>(
  run: (side: Side) => Promise<Record<K, number>>,
): Promise<Record<Side, Record<K, number>>> {
  const rounds = await inTurns(["raw", "carrot"], run);
  const medians = (side: Side) => {
    const keys = Object.keys(rounds[side][0]!) as K[];
    return Object.fromEntries(
      keys.map((key) => [key, median(rounds[side].map((r) => r[key]))]),
    ) as Record<K, number>;
  };
  return { raw: medians("raw"), carrot: medians("carrot") };
}

/**
 * Each side's results over ROUNDS rounds. The order is reversed every other
 * round, so that warm-up and drift hit every side.
 */
async function inTurns<S extends string, R>(
  sides: readonly S[],
  run: (side: S) => Promise<R>,
): Promise<Record<S, R[]>> {
  const results = Object.fromEntries(sides.map((side) => [side, []])) as unknown as Record<S, R[]>;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const result = await run(side);
      if (VERBOSE) console.error(`round ${round + 1} ${side}: ${JSON.stringify(result)}`);
      results[side].push(result);
    }
  }
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
