/**
 * `pnpm bench [filter]`: runs every scenario of every *.bench.ts here and in
 * packages/<name>/bench/, each in a fresh process (so that one's garbage and
 * peak memory do not count against the next), and prints one line per
 * scenario. Figures, not assertions: nothing fails on speed.
 *
 * The packages are measured as built (dist/), the code users install: run
 * on TypeScript sources through tsx, carrot would also pay for the
 * transform's helpers (esbuild's keepNames wraps every closure), which
 * costs it a third of its speed on the hot paths and the raw clients nothing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const packages = join(here, "..", "packages");

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

const [, , file, scenario] = process.argv;

if (file && scenario) {
  // Child: run one scenario and print its figures as JSON.
  const scenarios = (await import(`./${file}`)).default as Record<string, () => unknown>;
  console.log(JSON.stringify(await scenarios[scenario]!()));
} else {
  const files = benchFiles().filter((f) => !file || f.includes(file));
  for (const benchFile of files) {
    const scenarios = (await import(`./${benchFile}`)).default as Record<string, unknown>;
    for (const name of Object.keys(scenarios)) {
      const output = execFileSync(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), benchFile, name],
        {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const figures = JSON.parse(output.trim().split("\n").at(-1)!) as Record<string, number>;
      console.log(
        `${name.padEnd(48)} ${Object.entries(figures)
          .map(([k, v]) => `${k}=${v}`)
          .join("  ")}`,
      );
    }
  }
}
