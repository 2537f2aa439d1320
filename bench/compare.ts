import { rate } from "./payload.js";

export type Side = "raw" | "carrot";

export interface Figures {
  rawMsgsPerSec: number;
  carrotMsgsPerSec: number;
  ratio: number;
}

/** Runs per side, from BENCH_ROUNDS (default 5). */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/**
 * Runs the raw client and carrot alternately, the order flipping each round
 * so that warm-up and drift hit both, ROUNDS times each; `run` returns the
 * milliseconds its side took for `count` messages. Compares the medians: on
 * a shared 2-core machine single runs swing by a third or more.
 */
export async function compareSides(
  count: number,
  run: (side: Side) => Promise<number>,
): Promise<Figures> {
  const times: Record<Side, number[]> = { raw: [], carrot: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Side[] = round % 2 === 0 ? ["raw", "carrot"] : ["carrot", "raw"];
    for (const side of order) times[side].push(await run(side));
  }
  const raw = rate(count, median(times.raw));
  const carrot = rate(count, median(times.carrot));
  return {
    rawMsgsPerSec: raw,
    carrotMsgsPerSec: carrot,
    ratio: Math.round((carrot / raw) * 100) / 100,
  };
}

/**
 * Runs both sides alternately as compareSides does and returns, for each
 * figure `run` reports, its median per side: for measures that are not a
 * rate (latency percentiles).
 */
export async function alternateRounds<K extends string>(
  run: (side: Side) => Promise<Record<K, number>>,
): Promise<Record<Side, Record<K, number>>> {
  const rounds: Record<Side, Record<K, number>[]> = { raw: [], carrot: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Side[] = round % 2 === 0 ? ["raw", "carrot"] : ["carrot", "raw"];
    for (const side of order) rounds[side].push(await run(side));
  }
  const medians = (side: Side) => {
    const keys = Object.keys(rounds[side][0]!) as K[];
    return Object.fromEntries(
      keys.map((key) => [key, median(rounds[side].map((r) => r[key]))]),
    ) as Record<K, number>;
  };
  return { raw: medians("raw"), carrot: medians("carrot") };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
