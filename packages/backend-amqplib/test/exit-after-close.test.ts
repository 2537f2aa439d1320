import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

// A Node process that loads tsx and compiles the sources can take tens of
// seconds on a loaded 2-core machine: this limit is for that, not for close().
const CHILD_LIMIT = 60_000;

it(
  "a process that used RabbitMQ holds nothing of carrot's once close() resolved, and exits by itself",
  async () => {
    const child = fileURLToPath(new URL("./support/close-and-exit.ts", import.meta.url));
    // Exits by itself or is killed at the limit: the child never calls process.exit.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--conditions=@carrot/source", "--import", "tsx", child],
      { timeout: CHILD_LIMIT },
    );
    const report = JSON.parse(stdout) as { before: string[]; afterClose: string[] };
    // The whole report (with msToExit, not asserted: no timing assertions) in the failure message.
    expect(report.afterClose, stdout).toEqual(report.before);
  },
  CHILD_LIMIT + 10_000,
);
