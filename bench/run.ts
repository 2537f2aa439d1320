/**
 * `pnpm bench`: runs every scenario of every *.bench.ts here, each in a fresh
 * process (so that one's garbage and peak memory do not count against the
 * next), and prints one table. Figures, not assertions: nothing fails on speed.
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const [, , file, scenario] = process.argv;

if (file && scenario) {
  // Child: run one scenario and print its figures as JSON.
  const scenarios = (await import(`./${file}`)).default as Record<string, () => unknown>;
  console.log(JSON.stringify(await scenarios[scenario]!()));
} else {
  const files = readdirSync(here).filter(
    (f) => f.endsWith(".bench.ts") && (!file || f.includes(file)),
  );
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
