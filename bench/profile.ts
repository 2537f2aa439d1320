/**
 * `BENCH_PROFILE=<dir> pnpm bench [filter]`: where each side's CPU goes.
 * V8's sampling profiler runs over exactly the part a side's clock times
 * (startClock to its stop, warm-up round excluded) and every sample is
 * charged to the package whose code it ran: carrot's own packages, each
 * client library, Node.js itself, the garbage collector. A sample in V8's
 * native code (JSON, Buffer, regular expressions) is charged to the
 * JavaScript that called it, so "@carrot/core" includes the JSON its codec
 * runs. Figures are microseconds per message, summed over the measured
 * rounds; run.ts writes them to <dir>/profiles.md beside the usual table.
 *
 * The profiler slows every side alike, so profiled runs explain the
 * figures of an ordinary run; they are not figures to quote themselves.
 */
import { Session } from "node:inspector";
import { PerformanceObserver } from "node:perf_hooks";
import type { ScenarioReport } from "./report.js";

/** One side's samples: microseconds spent per owner, per function, and its garbage collections. */
export interface SideProfile {
  /** Package or runtime part -> microseconds per message. */
  owners: Record<string, number>;
  /** The functions that took the most time themselves -> microseconds per message. */
  functions: Record<string, number>;
  /**
   * The same, of carrot's own packages only (with the native code they
   * called): what a gap to raw is made of, below the SDK's and Node's
   * functions that top the list above.
   */
  carrotFunctions?: Record<string, number>;
  /** Garbage collection pauses (a latency tail's usual suspect): per 1,000 messages, and the longest in ms. */
  gc: { pausesPerThousand: number; longestMs: number };
}

const PROFILE_DIR = process.env.BENCH_PROFILE;
/** Microseconds between samples: fine enough for a 10 µs/msg hot path over a few seconds. */
const SAMPLING_INTERVAL_MICROS = 100;
const TOP_FUNCTIONS = 12;
/** What the owners of carrot's own packages' code start with. */
const CARROT_OWNER = "@carrot/";
/** Waiting on I/O: no one's CPU. */
const IDLE = "(idle)";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface Totals {
  runs: number;
  owners: Map<string, number>;
  functions: Map<string, number>;
  carrotFunctions: Map<string, number>;
  pauses: number;
  longestPauseMs: number;
}

let session: Session | undefined;
/** The side whose run this is, or undefined (warm-up round, not profiling). */
let measuredSide: string | undefined;
/**
 * The run's last timed part. A run may start a clock more than once (a
 * consume scenario times its fill too, then throws that sample away); the
 * sample a side returns is its last, so the last profile is the one kept.
 */
let lastTimed: { profile: CpuProfile; pauses: number[] } | undefined;
const totals = new Map<string, Totals>();

/** Called by the harness before each run: profile this side's timed part, or nothing. */
export function profileNextRun(side: string | undefined): void {
  measuredSide = PROFILE_DIR ? side : undefined;
  lastTimed = undefined;
}

/** Called by the harness after each run: adds its timed part's profile to its side's. */
export function endProfiledRun(): void {
  if (measuredSide !== undefined && lastTimed)
    add(measuredSide, lastTimed.profile, lastTimed.pauses);
  measuredSide = lastTimed = undefined;
}

/** Starts the profiler if this run is profiled; the function returned stops it and keeps the samples. */
export function startProfile(): () => void {
  if (measuredSide === undefined) return () => {};
  const inspector = connected();
  const pauses: number[] = [];
  const collections = new PerformanceObserver((list) => {
    for (const { duration } of list.getEntries()) pauses.push(duration);
  });
  collections.observe({ type: "gc" });
  inspector.post("Profiler.start");
  return () => {
    // A session on this thread answers synchronously: the profile is here when post returns.
    inspector.post("Profiler.stop", (error, result) => {
      if (error) throw error;
      // Those not handed to the callback yet.
      for (const { duration } of collections.takeRecords()) pauses.push(duration);
      collections.disconnect();
      lastTimed = { profile: result.profile as CpuProfile, pauses };
    });
  };
}

/** Each profiled side's figures per message (`messages` in each run), or undefined when not profiling. */
export function sideProfiles(messages: number): Record<string, SideProfile> | undefined {
  if (!PROFILE_DIR || totals.size === 0) return undefined;
  const perMessage = (t: Totals, map: Map<string, number>, limit: number) =>
    Object.fromEntries(
      [...map]
        .sort((a, b) => b[1] - a[1])
        .slice(0, limit)
        .map(([key, micros]) => [key, Math.round((micros / (messages * t.runs)) * 100) / 100]),
    );
  return Object.fromEntries(
    [...totals].map(([side, t]) => [
      side,
      {
        owners: perMessage(t, t.owners, Number.POSITIVE_INFINITY),
        functions: perMessage(t, t.functions, TOP_FUNCTIONS),
        carrotFunctions: perMessage(t, t.carrotFunctions, TOP_FUNCTIONS),
        gc: {
          pausesPerThousand: Math.round(((t.pauses * 1000) / (messages * t.runs)) * 100) / 100,
          longestMs: Math.round(t.longestPauseMs * 10) / 10,
        },
      },
    ]),
  );
}

function connected(): Session {
  if (!session) {
    session = new Session();
    session.connect();
    session.post("Profiler.enable");
    session.post("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_MICROS });
  }
  return session;
}

/** Adds one run's samples and garbage collection pauses (ms) to its side's totals. */
function add(side: string, profile: CpuProfile, pauses: number[]): void {
  const t = totals.get(side) ?? {
    runs: 0,
    owners: new Map(),
    functions: new Map(),
    carrotFunctions: new Map(),
    pauses: 0,
    longestPauseMs: 0,
  };
  totals.set(side, t);
  t.runs++;
  t.pauses += pauses.length;
  t.longestPauseMs = Math.max(t.longestPauseMs, ...pauses);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  const ownerOf = new Map<number, string>();
  const owner = (id: number): string => {
    let result = ownerOf.get(id);
    if (result !== undefined) return result;
    const parent = parentOf.get(id);
    // Native code belongs to whoever called it; a native root is V8's own.
    result =
      ownerOfFrame(byId.get(id)!.callFrame) ??
      (parent === undefined ? "V8 (native)" : owner(parent));
    ownerOf.set(id, result);
    return result;
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    // timeDeltas[i + 1] is the time from this sample to the next: the time it stands for.
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const who = owner(id);
    if (who === IDLE) continue;
    t.owners.set(who, (t.owners.get(who) ?? 0) + micros);
    const name = functionLabel(byId.get(id)!.callFrame);
    t.functions.set(name, (t.functions.get(name) ?? 0) + micros);
    if (who.startsWith(CARROT_OWNER))
      t.carrotFunctions.set(name, (t.carrotFunctions.get(name) ?? 0) + micros);
  }
}

/** Which package a frame's code belongs to; undefined for native code, which its caller is charged for. */
function ownerOfFrame({ functionName, url }: CallFrame): string | undefined {
  if (!url) {
    if (functionName === "(garbage collector)") return "garbage collector";
    if (functionName === "(program)") return "V8 (native)";
    if (functionName === "(idle)" || functionName === "(root)") return IDLE;
    return undefined;
  }
  if (url.startsWith("node:")) return "Node.js";
  const dependency = /.*node_modules\/(@[^/]+|[^/@.][^/]*)\//.exec(url);
  if (dependency) return dependency[1]!;
  // Code of a package's bench/ folder is the bench's own, not the package's.
  const carrot = /\/packages\/([^/]+)\/(?!bench\/)/.exec(url);
  if (carrot) return `${CARROT_OWNER}${carrot[1]}`;
  if (url.includes("/bench/")) return "bench driver";
  return "other";
}

function functionLabel({ functionName, url, lineNumber }: CallFrame): string {
  const name = functionName || "(anonymous)";
  if (!url) return `${name} (native)`;
  const file = url.slice(url.lastIndexOf("/") + 1);
  return `${name} ${file}:${lineNumber + 1}`;
}

/** profiles.md: per scenario, each side's CPU per message by owner, and the costliest functions. */
export function profileMarkdown(reports: ScenarioReport[], heading: string): string {
  const lines = [
    heading,
    "",
    "CPU µs per message, from V8's sampling profiler over the timed part of every measured round. Native code (JSON, Buffer) is charged to the package that called it. The profiler slows every side; ordinary runs give the figures to quote.",
  ];
  for (const { title, result } of reports) {
    if (result.type === "figures" || !result.profile) continue;
    const profile = result.profile;
    // The table's column order: raw, carrot, the peers.
    const sides = Object.keys(result.sides).filter((side) => profile[side]);
    const owners = [...new Set(sides.flatMap((side) => Object.keys(profile[side]!.owners)))].sort(
      (a, b) => (profile.carrot?.owners[b] ?? 0) - (profile.carrot?.owners[a] ?? 0),
    );
    const cell = (value: number | undefined) => (value === undefined ? "" : value.toFixed(2));
    const total = (side: string) =>
      Object.values(profile[side]!.owners).reduce((sum, micros) => sum + micros, 0);
    lines.push(
      "",
      `## ${title}`,
      "",
      `| where | ${sides.join(" | ")} |`,
      `| --- |${" ---: |".repeat(sides.length)}`,
      ...owners.map(
        (owner) =>
          `| ${owner} | ${sides.map((side) => cell(profile[side]!.owners[owner])).join(" | ")} |`,
      ),
      `| **total** | ${sides.map((side) => `**${cell(total(side))}**`).join(" | ")} |`,
      `| GC pauses per 1,000 msgs (longest, ms) | ${sides
        .map((side) => {
          const { pausesPerThousand, longestMs } = profile[side]!.gc;
          return `${cell(pausesPerThousand)} (${longestMs.toFixed(1)})`;
        })
        .join(" | ")} |`,
    );
    const listed = (functions: Record<string, number>) =>
      Object.entries(functions)
        .map(([name, micros]) => `\`${name}\` ${cell(micros)}`)
        .join(", ");
    for (const side of sides.filter((s) => s === "raw" || s === "carrot")) {
      lines.push(
        "",
        `Costliest functions of ${side} (self time, µs/msg): ${listed(profile[side]!.functions)}.`,
      );
    }
    // Older result files have no such list.
    const own = profile.carrot?.carrotFunctions;
    if (own && Object.keys(own).length > 0)
      lines.push("", `Costliest functions of carrot's own packages (µs/msg): ${listed(own)}.`);
  }
  return `${lines.join("\n")}\n`;
}
