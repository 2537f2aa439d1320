/**
 * The harness every scenario runs through: the sides of one scenario (the
 * best raw client, carrot, the peers) run in turns in one process, after one
 * warm-up round per side that is thrown away, and every round records the
 * side's wall time and this process's CPU time (the client's CPU: the broker
 * runs in its own process), and the broker's where this machine shows it
 * (`watchBroker`). The child prints these rounds as JSON; run.ts
 * turns them into medians, ranges, ratios, a table and a chart (report.ts).
 */
import { brokerCpuClock } from "./broker-cpu.js";
import {
  endProfiledRun,
  profileNextRun,
  type SideProfile,
  sideProfiles,
  startProfile,
} from "./profile.js";

/** Rounds per side at least, from BENCH_ROUNDS (default 5), after the warm-up round (see `wholeCycles`). */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** BENCH_VERBOSE=1 prints every round's result (to stderr), to see drift that medians hide. */
const VERBOSE = Boolean(process.env.BENCH_VERBOSE);

/** One measured run: wall milliseconds, this process's CPU microseconds (user + system), and the broker's. */
export interface Sample {
  ms: number;
  cpuMicros: number;
  /** The broker's CPU over the run, where `watchBroker` found it. */
  brokerCpuMicros?: number;
}

let brokerCpu: (() => number) | undefined;

/**
 * Measures, beside this process's CPU, that of the broker at `url` (its port,
 * else `defaultPort`) for the runs from now on, when the broker runs on this
 * machine and /proc shows it (broker-cpu.ts).
 */
export function watchBroker(url: string, defaultPort: number): void {
  const { hostname, port } = new URL(url);
  const local = ["127.0.0.1", "localhost", "[::1]"].includes(hostname);
  brokerCpu = local ? brokerCpuClock(Number(port || defaultPort)) : undefined;
}

/** Starts the clocks (and the profiler under BENCH_PROFILE); the function returned stops them. Start after setup, stop before teardown. */
export function startClock(): () => Sample {
  const stopProfile = startProfile();
  const broker = brokerCpu;
  const brokerStarted = broker?.();
  const cpu = process.cpuUsage();
  const started = performance.now();
  return () => {
    const ms = performance.now() - started;
    const { user, system } = process.cpuUsage(cpu);
    stopProfile();
    const sample: Sample = { ms, cpuMicros: user + system };
    if (broker) sample.brokerCpuMicros = broker() - brokerStarted!;
    return sample;
  };
}

/** What a side is to the table: the best raw client, carrot, or a library a Node user might pick instead. */
export type Role = "raw" | "carrot" | "peer";

export interface SideRounds {
  role: Role;
  /** Its work is not carrot's (BullMQ stores jobs, not messages): shown, never the yardstick. */
  differentWork?: boolean;
  msgsPerSec: number[];
  cpuMicrosPerMsg: number[];
  /** Where the broker's CPU was measured (`watchBroker`). */
  brokerCpuMicrosPerMsg?: number[];
}

/** Throughput of every side, round by round (index i of every side is the same round). */
export interface RateRounds {
  type: "rates";
  messages: number;
  sides: Record<string, SideRounds>;
  /** Under BENCH_PROFILE: where each side's CPU went (profile.ts). */
  profile?: Record<string, SideProfile>;
}

export interface LatencyRounds {
  type: "latency";
  messages: number;
  sides: Record<
    string,
    {
      role: Role;
      p50: number[];
      p99: number[];
      cpuMicrosPerMsg: number[];
      brokerCpuMicrosPerMsg?: number[];
    }
  >;
  profile?: Record<string, SideProfile>;
}

/** Figures that compare nothing (peak memory): printed as they are. */
export interface PlainFigures {
  type: "figures";
  figures: Record<string, number>;
}

export type Result = RateRounds | LatencyRounds | PlainFigures;

/** One scenario of a *.bench.ts file: its row title, and what carrot does less of when ahead of raw. */
export interface Scenario {
  title: string;
  /** Shown under the table when carrot's ratio to the best raw is above 1: the work carrot avoids. */
  note?: string;
  run(): Promise<Result> | Result;
}

export interface SideSpec {
  role: Role;
  differentWork?: boolean;
  /** Runs `messages` messages through this side; returns the sample of the timed part. */
  run(): Promise<Sample>;
}

/** The raw side first, then carrot, then the peers: the order of the table's columns. */
export function sides(
  raw: () => Promise<Sample>,
  carrot: () => Promise<Sample>,
  peers: Record<string, (() => Promise<Sample>) | Omit<SideSpec, "role">> = {},
): Record<string, SideSpec> {
  const result: Record<string, SideSpec> = {
    raw: { role: "raw", run: raw },
    carrot: { role: "carrot", run: carrot },
  };
  for (const [name, peer] of Object.entries(peers)) {
    result[name] =
      typeof peer === "function" ? { role: "peer", run: peer } : { role: "peer", ...peer };
  }
  return result;
}

/** Messages per second and CPU microseconds per message of every side, ROUNDS rounds each. */
export async function compareRates(
  messages: number,
  specs: Record<string, SideSpec>,
): Promise<RateRounds> {
  const rounds = await inTurns(specs, (spec) => spec.run());
  const result: RateRounds = { type: "rates", messages, sides: {} };
  for (const [name, spec] of Object.entries(specs)) {
    result.sides[name] = {
      role: spec.role,
      ...(spec.differentWork ? { differentWork: true } : {}),
      msgsPerSec: rounds[name]!.map((s) => Math.round((messages / s.ms) * 1000)),
      ...cpuPerMessage(rounds[name]!, messages),
    };
  }
  return withProfile(result, messages);
}

/** A latency sample: percentiles in ms, and the run's CPU. */
export interface LatencySample extends Sample {
  p50: number;
  p99: number;
}

/**
 * Rounds per side of a latency run: twice ROUNDS. One run's p99 is decided
 * by a stall or two (RabbitMQ's or a garbage collection, on either side), so
 * the median of five swung from run to run: raw / carrot 0.50 in one full
 * run, 1.01 over ten rounds later that day, 1.09 over twenty.
 */
export const LATENCY_ROUNDS = 2 * ROUNDS;

/** Latency percentiles of the raw side and carrot, round by round (LATENCY_ROUNDS rounds). */
export async function compareLatency(
  messages: number,
  run: (side: "raw" | "carrot") => Promise<LatencySample>,
): Promise<LatencyRounds> {
  const specs = { raw: "raw", carrot: "carrot" } as const;
  const rounds = await inTurns(specs, (side) => run(side), LATENCY_ROUNDS);
  const result: LatencyRounds = { type: "latency", messages, sides: {} };
  for (const side of ["raw", "carrot"] as const) {
    result.sides[side] = {
      role: side,
      p50: rounds[side].map((s) => s.p50),
      p99: rounds[side].map((s) => s.p99),
      ...cpuPerMessage(rounds[side], messages),
    };
  }
  return withProfile(result, messages);
}

/**
 * Each side's results over at least `rounds` rounds (whole cycles of the
 * order, see `wholeCycles`), after one warm-up round per side whose results
 * are dropped. The rounds run the sides in the orders of a
 * balanced Latin square (`roundOrder`): every side runs first and last as
 * often as the others, so drift on a shared machine hits all of them, and
 * within the rounds right after each other side as often (across the step
 * from one round to the next, after each heavy peer as often), so the
 * garbage one side leaves to be collected during the next side's run is not
 * always left to the same side. (Rotating one order, as this did before, made each
 * side's predecessor the same in nearly every round: raw ran after the
 * peer with the most garbage, rascal or BullMQ, and carrot after raw.)
 *
 * No run starts with a forced full collection (`gc()`): one between runs
 * threw away optimized code of every side (V8's "embedded weak objects
 * cleared": code that had inlined objects of the last run, which the
 * collection freed), so each run began partly unoptimized, as a process in
 * steady state never does. Redis publish, 8 runs of 30,000 messages in one
 * process: 58 such deoptimizations with it, none without; in this bench,
 * CPU µs/msg raw 3.5 against 2.4-3.0, carrot 6.0-6.5 against 3.9-4.2 (the
 * side with more hot functions paid more).
 */
async function inTurns<K extends string, T, R>(
  specs: Record<K, T>,
  run: (spec: T, name: K) => Promise<R>,
  rounds = ROUNDS,
): Promise<Record<K, R[]>> {
  const names = Object.keys(specs) as K[];
  const results = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<K, R[]>;
  const measured = wholeCycles(names.length, rounds);
  for (let round = 0; round <= measured; round++) {
    for (const name of roundOrder(names, round)) {
      profileNextRun(round > 0 ? name : undefined);
      const result = await run(specs[name], name);
      endProfiledRun();
      const label = round === 0 ? "warm-up" : `round ${round}`;
      if (VERBOSE) console.error(`${label} ${name}: ${JSON.stringify(result)}`);
      if (round > 0) results[name].push(result);
    }
  }
  return results;
}

/**
 * Round `round`'s order of `names`: row `round` of a Williams design. Its
 * first row is 0, 1, n-1, 2, n-2, ...; row r adds r to each (mod n). For an
 * even n, n rows put every side in every place once and right after every
 * other side once; an odd n needs the n rows reversed as well, so rounds n
 * to 2n-1 run them backwards.
 */
function roundOrder<K>(names: readonly K[], round: number): K[] {
  const n = names.length;
  const first = [0];
  for (let low = 1, high = n - 1; first.length < n; ) {
    first.push(low++);
    if (first.length < n) first.push(high--);
  }
  const row = round % cycleLength(n);
  const order = first.map((i) => names[(i + row) % n] as K);
  return row < n ? order : order.reverse();
}

/** Rounds in one cycle of `roundOrder`'s design: the number of sides when even, twice it when odd. */
export function cycleLength(sides: number): number {
  return sides % 2 === 0 ? sides : 2 * sides;
}

/**
 * `wanted` rounds, rounded up to whole cycles of `roundOrder`'s design, so that over the measured
 * rounds each side runs first as often as the others and right after each
 * heavy peer as often. Collecting one side's garbage is charged to the side
 * after it, and it is not small: on Redis publish (raw, carrot, BullMQ),
 * carrot's round right after BullMQ's warm-up cost 6.8 to 8.7 µs of CPU per
 * message in six runs, against medians of 3.6 to 5.3 in its other rounds.
 * With 5 rounds of those 3 sides, carrot ran after BullMQ three times and
 * raw twice.
 */
function wholeCycles(sides: number, wanted: number): number {
  const cycle = cycleLength(sides);
  return Math.ceil(wanted / cycle) * cycle;
}

function withProfile<R extends RateRounds | LatencyRounds>(result: R, messages: number): R {
  const profile = sideProfiles(messages);
  return profile ? { ...result, profile } : result;
}

/** The client's CPU per message of each round, and the broker's where every round measured it. */
function cpuPerMessage(
  samples: Sample[],
  messages: number,
): { cpuMicrosPerMsg: number[]; brokerCpuMicrosPerMsg?: number[] } {
  const cpuMicrosPerMsg = samples.map((s) => round1(s.cpuMicros / messages));
  const broker = samples.map((s) => s.brokerCpuMicros);
  if (broker.some((micros) => micros === undefined)) return { cpuMicrosPerMsg };
  return {
    cpuMicrosPerMsg,
    brokerCpuMicrosPerMsg: broker.map((micros) => round1(micros! / messages)),
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
