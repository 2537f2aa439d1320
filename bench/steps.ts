import type { PlainFigures, RateRounds } from "./compare.js";
import { spread } from "./report.js";

/**
 * A gap taken apart: sides run in turns in one process (compareRates), from
 * the raw side to carrot, each adding one layer to the one before (`order`:
 * the side names, raw's first). Where a profile charges the same library
 * code differently on the two sides (SQS: the same 2,049 socket writes are
 * charged 4.4 µs per message on raw's side, 6.9 on carrot's), the CPU clock of
 * each layer says what that layer costs. Each step's figures are medians:
 * messages per second, CPU per message, and the CPU per message it adds to
 * the step before, with the lowest and highest of the rounds: taken round by
 * round (the steps of one round ran one after the other), so that a round
 * the machine made slow for every side does not count as a step's cost.
 */
export function stepFigures(rounds: RateRounds, order: string[]): PlainFigures {
  const figures: Record<string, number> = {};
  let before: number[] | undefined;
  for (const name of order) {
    const side = rounds.sides[name];
    if (!side) throw new Error(`no side '${name}' in the rounds`);
    const cpu = side.cpuMicrosPerMsg;
    figures[`${name} msgs/s`] = Math.round(spread(side.msgsPerSec).median);
    figures[`${name} CPU µs/msg`] = tenths(spread(cpu).median);
    if (before) {
      const previous = before;
      const added = spread(cpu.map((value, i) => value - previous[i]!));
      figures[`${name} adds CPU µs/msg`] = tenths(added.median);
      figures[`${name} adds, lowest round`] = tenths(added.min);
      figures[`${name} adds, highest round`] = tenths(added.max);
    }
    before = cpu;
  }
  return { type: "figures", figures };
}

function tenths(value: number): number {
  return Math.round(value * 10) / 10;
}
