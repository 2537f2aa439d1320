import type { PlainFigures, RateRounds } from "./compare.js";
import { spread } from "./report.js";

/**
 * A gap taken apart: sides run in turns in one process (compareRates), from
 * the raw side to carrot, each adding one layer to the one before (`order`:
 * the side names, raw's first). Where a profile charges the same library
 * code differently on the two sides (SQS: the same 2,049 socket writes cost
 * 4.2 µs per message on raw's side and 7.2 on carrot's), the CPU clock of
 * each layer says what that layer costs. Each step's figures are medians:
 * messages per second, CPU per message, and the CPU per message it adds to
 * the step before.
 */
export function stepFigures(rounds: RateRounds, order: string[]): PlainFigures {
  const figures: Record<string, number> = {};
  let before: number | undefined;
  for (const name of order) {
    const side = rounds.sides[name];
    if (!side) throw new Error(`no side '${name}' in the rounds`);
    const cpu = spread(side.cpuMicrosPerMsg).median;
    figures[`${name} msgs/s`] = Math.round(spread(side.msgsPerSec).median);
    figures[`${name} CPU µs/msg`] = tenths(cpu);
    if (before !== undefined) figures[`${name} adds CPU µs/msg`] = tenths(cpu - before);
    before = cpu;
  }
  return { type: "figures", figures };
}

function tenths(value: number): number {
  return Math.round(value * 10) / 10;
}
