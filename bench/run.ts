/**
 * `pnpm bench [filter]`: runs every scenario of every *.bench.ts here and in
 * packages/<name>/bench/ whose file name or scenario name contains the
 * filter, each in a fresh process (so that one's garbage and peak memory do
 * not count against the next), prints one line per scenario as it goes and
 * then the markdown table. Figures, not assertions: nothing fails on speed.
 *
 * A run without a filter writes the table, the chart and the rounds to
 * docs/bench/ (results.md, ratios.svg, results.json); BENCH_OUT=<dir> writes
 * them there for any run. `tsx bench/run.ts --render <results.json>` redraws
 * the table and the chart from recorded rounds. BENCH_PROFILE=<dir> also
 * profiles every side and writes where its CPU goes to <dir>/profiles.md
 * (profile.ts); such a run writes no table unless BENCH_OUT says where.
 *
 * The packages are measured as built (dist/), the code users install: run
 * on TypeScript sources through tsx, carrot would also pay for the
 * transform's helpers (esbuild's keepNames wraps every closure), which
 * costs it a third of its speed on the hot paths and the raw clients nothing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cycleLength, ROUNDS, type Scenario } from "./compare.js";
import { profileMarkdown } from "./profile.js";
import { consoleLine, markdown, type ScenarioReport, svg } from "./report.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const packages = join(here, "..", "packages");
const DEFAULT_OUT = join(here, "..", "docs", "bench");
const PROFILE_DIR = process.env.BENCH_PROFILE;

/** Every bench file, as a path relative to this folder. */
function benchFiles(): string[] {
  const folders = [
    ".",
    ...readdirSync(packages).map((name) => join("..", "packages", name, "bench")),
  ];
  return folders.flatMap((folder) =>
    existsSync(join(here, folder))
      ? readdirSync(join(here, folder))
          .filter((f) => f.endsWith(".bench.ts"))
          .map((f) => join(folder, f))
      : [],
  );
}

function describeRun(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const date = new Date().toISOString().slice(0, 10);
  return `${date}, Node ${process.version}, ${cpus().length} × ${cpu}, at least ${ROUNDS} rounds per side, rounded up to whole cycles of the order of sides (${cycleLength(2)} rounds for 2 sides, ${cycleLength(3)} for 3, ${cycleLength(4)} for 4), after one warm-up round`;
}

function write(out: string, reports: ScenarioReport[], description: string): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, "results.json"),
    `${JSON.stringify({ description, reports }, null, 1)}\n`,
  );
  writeFileSync(join(out, "results.md"), markdown(reports, `Measured ${description}.`));
  writeFileSync(join(out, "ratios.svg"), svg(reports, description));
  console.log(`\nwrote ${join(out, "results.md")}, ratios.svg and results.json`);
}

const [, , first, second] = process.argv;

if (first === "--render" && second) {
  // Redraw the table and the chart from recorded rounds.
  const { description, reports } = JSON.parse(readFileSync(second, "utf8")) as {
    description: string;
    reports: ScenarioReport[];
  };
  const out = process.env.BENCH_OUT ?? dirname(second);
  console.log(markdown(reports, `Measured ${description}.`));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "results.md"), markdown(reports, `Measured ${description}.`));
  writeFileSync(join(out, "ratios.svg"), svg(reports, description));
} else if (first && second) {
  // Child: run one scenario and print its rounds as JSON.
  const scenarios = (await import(`./${first}`)).default as Record<string, Scenario>;
  console.log(JSON.stringify(await scenarios[second]!.run()));
} else {
  const filter = first;
  const description = describeRun();
  const reports: ScenarioReport[] = [];
  for (const benchFile of benchFiles()) {
    const scenarios = (await import(`./${benchFile}`)).default as Record<string, Scenario>;
    for (const [name, scenario] of Object.entries(scenarios)) {
      if (filter && !matches(benchFile, filter) && !matches(name, filter)) continue;
      const output = execFileSync(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), benchFile, name],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 2 ** 20 },
      );
      const report: ScenarioReport = {
        file: benchFile,
        name,
        title: scenario.title,
        ...(scenario.note ? { note: scenario.note } : {}),
        result: JSON.parse(output.trim().split("\n").at(-1)!),
        // Others' work on a shared machine moves the figures: the 1-minute load when it ended.
        load: Math.round(loadavg()[0]! * 100) / 100,
      };
      reports.push(report);
      console.log(consoleLine(report));
    }
  }
  console.log(`\n${markdown(reports, `Measured ${description}.`)}`);
  // A profiled run's figures are slowed by the profiler: never the recorded ones.
  const out = process.env.BENCH_OUT ?? (filter || PROFILE_DIR ? undefined : DEFAULT_OUT);
  if (out) write(out, reports, description);
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    const file = join(PROFILE_DIR, "profiles.md");
    writeFileSync(
      file,
      profileMarkdown(reports, `# Where the CPU goes\n\nProfiled ${description}.`),
    );
    console.log(`wrote ${file}`);
  }
}

/** The filter matches a file or scenario name whatever the case ("Redis publish" finds "redis publish ..."). */
function matches(name: string, filter: string): boolean {
  return name.toLowerCase().includes(filter.toLowerCase());
}
