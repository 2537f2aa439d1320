import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A child process running one of these tests' scripts, and its output lines as they come. */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves with the first output line that `matches`; rejects if the child exits first. */
  line(matches: RegExp): Promise<string>;
  /** Every line printed, once the child has exited and its output is read to the end. */
  readonly closed: Promise<string[]>;
}

/**
 * Starts `script` (in support/) on the sources, as the conformance suite
 * starts its children (packages/conformance/src/child-process.ts).
 */
export function startChild(script: string, args: readonly string[]): Child {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=@carrot/source", path, ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const lines = () => output.split("\n").filter((line) => line !== "");
  const watchers = new Set<() => void>();
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    for (const watch of watchers) watch();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const closed = new Promise<string[]>((resolve) => child.on("close", () => resolve(lines())));
  return {
    process: child,
    closed,
    line: (matches) =>
      new Promise((resolve, reject) => {
        const watch = () => {
          const found = lines().find((line) => matches.test(line));
          if (found !== undefined) resolve(found);
        };
        watchers.add(watch);
        watch();
        void closed.then(() =>
          reject(new Error(`${script} exited before printing ${matches}: ${output.slice(-2000)}`)),
        );
      }),
  };
}
