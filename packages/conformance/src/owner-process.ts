import { type ChildProcess, spawn } from "node:child_process";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProcessOptions } from "./options.js";

/**
 * Starts `exclusive-owner` in a child process that owns `queue` as an
 * exclusive queue; `ready` resolves once it does (it prints "ready"). The
 * script is this package's own: `.ts` when the suite runs from its
 * sources, `.js` when built. A child that exits first rejects with its
 * output, which says why (a bad URL, a missing loader).
 */
export function ownerProcess(
  processes: ProcessOptions,
  queue: string,
): { child: ChildProcess; ready: Promise<void> } {
  const here = fileURLToPath(import.meta.url);
  const script = here.replace(/owner-process\.[cm]?[jt]s$/, `exclusive-owner${extname(here)}`);
  const child = spawn(
    process.execPath,
    [...(processes.execArgv ?? []), script, processes.url, queue],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready\n")) resolve();
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      reject(
        new Error(
          `the owner process exited (${signal ?? code}) before it owned '${queue}': ${output.slice(-2000)}`,
        ),
      ),
    );
  });
  return { child, ready };
}
