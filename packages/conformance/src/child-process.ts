import { type ChildProcess, spawn } from "node:child_process";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProcessOptions } from "./options.js";

/** A child process running one of the suite's scripts, and what it reported once ready. */
export interface Child {
  /** The process: the case kills it (SIGKILL), and the kit again at clean-up. */
  readonly child: ChildProcess;
  /** The rest of the script's "ready" line, once it printed one. */
  readonly ready: Promise<string>;
}

/**
 * Starts one of this package's scripts (`exclusive-owner`, `crash-holder`, `requester`)
 * in a child process connected with the `processes` option's URL; `ready`
 * resolves once it prints a line starting "ready", with the rest of that
 * line. The script is this package's own: `.ts` when the suite runs from its
 * sources, `.js` when built. A child that exits first rejects with its
 * output, which says why (a bad URL, a missing loader).
 */
export function startChild(
  processes: ProcessOptions,
  script: "exclusive-owner" | "crash-holder" | "requester",
  args: readonly string[],
): Child {
  const here = fileURLToPath(import.meta.url);
  const path = here.replace(/child-process\.[cm]?[jt]s$/, `${script}${extname(here)}`);
  const child = spawn(
    process.execPath,
    [...(processes.execArgv ?? []), path, processes.url, ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const line = /^ready(?: (.*))?$/m.exec(output);
      if (line) resolve(line[1] ?? "");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      reject(
        new Error(
          `${script} exited (${signal ?? code}) before it was ready: ${output.slice(-2000)}`,
        ),
      ),
    );
  });
  return { child, ready };
}
