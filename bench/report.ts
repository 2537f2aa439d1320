/**
 * The bench's report from the rounds the scenarios recorded (compare.ts):
 * one line per scenario for the terminal, a markdown table for the README,
 * and an SVG chart of every side's throughput relative to the best raw
 * client. Medians are the figures; every figure carries its min–max over
 * the rounds. A ratio is that of the medians; its range is that of the
 * round-by-round ratios (carrot's round i over raw's round i, run back to
 * back), where drift on a shared machine cancels out.
 */
import type { LatencyRounds, RateRounds, Result } from "./compare.js";

/** One scenario's outcome as run.ts collected it. */
export interface ScenarioReport {
  file: string;
  name: string;
  title: string;
  note?: string;
  result: Result;
  /** The machine's 1-minute load average when the scenario ended (2 cores: above 2 is contention). */
  load?: number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median =
    sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)! };
}

/**
 * `a` over `b`: the ratio of their medians (so that it agrees with the
 * figures beside it), with the min–max of the round-by-round ratios (each
 * round's sides ran back to back, so drift cancels). The ratio of the
 * medians always lies within that range.
 */
function pairedRatios(a: number[], b: number[]): Spread {
  const { min, max } = spread(a.map((value, i) => value / b[i]!));
  return { median: spread(a).median / spread(b).median, min, max };
}

export interface SideSummary {
  name: string;
  role: "raw" | "carrot" | "peer";
  differentWork: boolean;
  rate: Spread;
  cpu: Spread;
  /** The broker's CPU per message in this side's rounds, where it was measured. */
  brokerCpu?: Spread;
  /** This side's throughput over the best raw client's, paired by round. */
  ratio: Spread;
}

export function summarizeRates(result: RateRounds): SideSummary[] {
  const raw = result.sides.raw!;
  return Object.entries(result.sides).map(([name, side]) => ({
    name,
    role: side.role,
    differentWork: Boolean(side.differentWork),
    rate: spread(side.msgsPerSec),
    cpu: spread(side.cpuMicrosPerMsg),
    ...brokerSpread(side),
    ratio: pairedRatios(side.msgsPerSec, raw.msgsPerSec),
  }));
}

function brokerSpread(side: { brokerCpuMicrosPerMsg?: number[] }): { brokerCpu?: Spread } {
  return side.brokerCpuMicrosPerMsg ? { brokerCpu: spread(side.brokerCpuMicrosPerMsg) } : {};
}

/** The CPU per message of a side, its broker's beside it where measured: "6.5" or "6.5 (broker 18.0)". */
function cpuText(side: { cpu: Spread; brokerCpu?: Spread }): string {
  return `${one(side.cpu.median)}${side.brokerCpu ? ` (broker ${one(side.brokerCpu.median)})` : ""}`;
}

/** The broker column of the table: raw's and carrot's, or nothing where not measured. */
function brokerColumn(raw: { brokerCpu?: Spread }, carrot: { brokerCpu?: Spread }): string {
  return raw.brokerCpu && carrot.brokerCpu
    ? `${one(raw.brokerCpu.median)} / ${one(carrot.brokerCpu.median)}`
    : "";
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
/** A plain figure: CPU per message in tenths of a µs, where a step's few tenths are the point. */
const figure = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const two = (n: number) => n.toFixed(2);
const one = (n: number) => n.toFixed(1);

function rateText({ median, min, max }: Spread): string {
  return `${int.format(median)}/s (${int.format(min)}–${int.format(max)})`;
}

function ratioText({ median, min, max }: Spread): string {
  return `${two(median)} (${two(min)}–${two(max)})`;
}

function msText({ median, min, max }: Spread): string {
  return `${two(median)} ms (${two(min)}–${two(max)})`;
}

/** One line per scenario, for the terminal as the bench goes. */
export function consoleLine(report: ScenarioReport): string {
  const { result } = report;
  const head = `${report.title.padEnd(56)}${report.load === undefined ? "" : ` [load ${report.load}]`}`;
  if (result.type === "figures") {
    return `${head} ${Object.entries(result.figures)
      .map(([k, v]) => `${k}=${figure.format(v)}`)
      .join("  ")}`;
  }
  if (result.type === "latency") {
    const r = latencySummary(result);
    return `${head} raw p50 ${two(r.raw.p50.median)} p99 ${two(r.raw.p99.median)} ms, cpu ${cpuText(r.raw)} µs/msg | carrot p50 ${two(r.carrot.p50.median)} p99 ${two(r.carrot.p99.median)} ms, cpu ${cpuText(r.carrot)} µs/msg | p99 raw/carrot ${ratioText(r.p99Ratio)}`;
  }
  return `${head} ${summarizeRates(result)
    .map(
      (s) =>
        `${s.name} ${rateText(s.rate)} cpu ${cpuText(s)} µs/msg${s.role === "raw" ? "" : ` ratio ${ratioText(s.ratio)}`}`,
    )
    .join(" | ")}`;
}

function latencySummary(result: LatencyRounds) {
  const side = (name: "raw" | "carrot") => {
    const s = result.sides[name]!;
    return {
      p50: spread(s.p50),
      p99: spread(s.p99),
      cpu: spread(s.cpuMicrosPerMsg),
      ...brokerSpread(s),
    };
  };
  return {
    raw: side("raw"),
    carrot: side("carrot"),
    // Above 1 when carrot's p99 is lower: the same direction as the throughput ratios.
    p99Ratio: pairedRatios(result.sides.raw!.p99, result.sides.carrot!.p99),
  };
}

/** The README's table: one row per scenario, then the notes and the figures that compare nothing. */
export function markdown(reports: ScenarioReport[], heading: string): string {
  const lines = [
    heading,
    "",
    "| scenario | best raw | carrot | ratio (range) | CPU µs/msg raw / carrot | broker CPU µs/msg raw / carrot | peers (ratio to best raw, CPU µs/msg) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  const notes: string[] = [];
  const plain: string[] = [];
  for (const report of reports) {
    const { result, title } = report;
    if (result.type === "figures") {
      plain.push(
        `- ${title}: ${Object.entries(result.figures)
          .map(([k, v]) => `${k} ${figure.format(v)}`)
          .join(", ")}`,
      );
      continue;
    }
    if (result.type === "latency") {
      const r = latencySummary(result);
      const side = (s: typeof r.raw) => `p50 ${two(s.p50.median)} / p99 ${msText(s.p99)}`;
      lines.push(
        `| ${title} | ${side(r.raw)} | ${side(r.carrot)} | ${ratioText(r.p99Ratio)} (p99 raw / carrot, ${result.sides.raw!.p99.length} rounds) | ${one(r.raw.cpu.median)} / ${one(r.carrot.cpu.median)} | ${brokerColumn(r.raw, r.carrot)} | |`,
      );
      if (r.p99Ratio.median > 1 && report.note) notes.push(`- ${title}: ${report.note}`);
      continue;
    }
    const summary = summarizeRates(result);
    const raw = summary.find((s) => s.role === "raw")!;
    const carrot = summary.find((s) => s.role === "carrot")!;
    const peers = summary
      .filter((s) => s.role === "peer")
      .map(
        (s) =>
          `${s.name}${s.differentWork ? " (different work)" : ""}: ${int.format(s.rate.median)}/s, ${ratioText(s.ratio)}, ${cpuText(s)}`,
      )
      .join("; ");
    lines.push(
      `| ${title} | ${rateText(raw.rate)} | ${rateText(carrot.rate)} | ${ratioText(carrot.ratio)} | ${one(raw.cpu.median)} / ${one(carrot.cpu.median)} | ${brokerColumn(raw, carrot)} | ${peers} |`,
    );
    if (carrot.ratio.median > 1 && report.note) notes.push(`- ${title}: ${report.note}`);
  }
  if (notes.length > 0)
    lines.push(
      "",
      "Where carrot is ahead of the best raw client, the work it avoids:",
      "",
      ...notes,
    );
  if (plain.length > 0) lines.push("", ...plain);
  const loads = reports.flatMap((r) => (r.load === undefined ? [] : [r.load]));
  if (loads.length > 0) {
    const { min, max } = spread(loads);
    lines.push(
      "",
      `The machine's 1-minute load average at the end of each scenario: ${min}–${max}.`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const COLORS: Record<string, string> = {
  raw: "#9ca3af",
  carrot: "#ea580c",
};
const PEER_COLORS = ["#2563eb", "#0d9488", "#7c3aed", "#db2777", "#65a30d"];

function xmlText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Horizontal bars, one group per throughput scenario: the best raw client
 * (1.0 by definition), carrot and the peers, each as its median ratio to the
 * best raw client with a whisker for its min–max over the rounds.
 */
export function svg(reports: ScenarioReport[], caption: string): string {
  const groups = reports
    .filter((r): r is ScenarioReport & { result: RateRounds } => r.result.type === "rates")
    .map((r) => ({ title: r.title, sides: summarizeRates(r.result) }));
  const peerNames = [
    ...new Set(groups.flatMap((g) => g.sides.filter((s) => s.role === "peer").map((s) => s.name))),
  ];
  const color = (name: string) =>
    COLORS[name] ?? PEER_COLORS[peerNames.indexOf(name) % PEER_COLORS.length]!;
  const top = Math.max(1.25, ...groups.flatMap((g) => g.sides.map((s) => s.ratio.max)));
  const scaleMax = Math.ceil(top * 4) / 4;
  const left = 230;
  const plotWidth = 470;
  const width = left + plotWidth + 70;
  const bar = 13;
  const gap = 3;
  const x = (ratio: number) => left + (ratio / scaleMax) * plotWidth;
  const parts: string[] = [];
  let y = 44;
  for (const group of groups) {
    parts.push(`<text x="8" y="${y + 11}" class="group">${xmlText(group.title)}</text>`);
    y += 18;
    for (const side of group.sides) {
      const label = side.differentWork ? `${side.name} (different work)` : side.name;
      const w = Math.max(1, x(side.ratio.median) - left);
      parts.push(
        `<text x="${left - 6}" y="${y + bar - 3}" class="label">${xmlText(label)}</text>`,
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${color(side.name)}"/>`,
      );
      if (side.role !== "raw") {
        const mid = y + bar / 2;
        parts.push(
          `<path d="M${x(side.ratio.min).toFixed(1)} ${mid}H${x(side.ratio.max).toFixed(1)}" class="whisker"/>`,
        );
      }
      const valueX = Math.max(x(side.ratio.median), side.role === "raw" ? 0 : x(side.ratio.max));
      parts.push(
        `<text x="${(valueX + 4).toFixed(1)}" y="${y + bar - 3}" class="value">${two(side.ratio.median)}</text>`,
      );
      y += bar + gap;
    }
    y += 12;
  }
  const bottom = y;
  const ticks: string[] = [];
  for (let t = 0; t <= scaleMax + 1e-9; t += 0.25) {
    const tx = x(t).toFixed(1);
    const major = Math.abs(t - Math.round(t * 2) / 2) < 1e-9;
    ticks.push(
      `<path d="M${tx} 36V${bottom}" class="${Math.abs(t - 1) < 1e-9 ? "one" : "grid"}"/>`,
    );
    if (major) ticks.push(`<text x="${tx}" y="${bottom + 14}" class="tick">${t.toFixed(1)}</text>`);
  }
  const height = bottom + 40;
  const loads = reports.flatMap((r) => (r.load === undefined ? [] : [r.load]));
  if (loads.length > 0) {
    const { min, max } = spread(loads);
    caption = `${caption}; 1-minute load average ${min}–${max}`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
.group { font-size: 12px; font-weight: 600; fill: #111827; }
.label { font-size: 11px; fill: #374151; text-anchor: end; }
.value { font-size: 10px; fill: #111827; }
.tick { font-size: 10px; fill: #6b7280; text-anchor: middle; }
.grid { stroke: #e5e7eb; stroke-width: 1; }
.one { stroke: #111827; stroke-width: 1; stroke-dasharray: 3 3; }
.whisker { stroke: #111827; stroke-width: 1.2; }
.title { font-size: 13px; font-weight: 600; fill: #111827; }
.caption { font-size: 10px; fill: #6b7280; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="8" y="18" class="title">Throughput relative to the best raw client (1.0), median of the rounds; whiskers: min–max</text>
${ticks.join("\n")}
${parts.join("\n")}
<text x="8" y="${bottom + 32}" class="caption">${xmlText(caption)}</text>
</svg>
`;
}
