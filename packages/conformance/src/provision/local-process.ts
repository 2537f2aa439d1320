import { spawn } from "node:child_process";
import { once } from "node:events";
import { rm } from "node:fs/promises";

/** A broker process started from a local binary, with its own temporary folder. */
export interface LocalProcess {
  /** The process id (the leader of its own process group). */
  readonly pid: number;
  /**
   * Ends the process group (SIGTERM, or `signal`; SIGKILL if it is not gone
   * within 15 s), waits until the process has exited, and removes its folder if it has one.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** What to start, and how to know that it is up. */
export interface LocalProcessOptions {
  /** The program, for messages. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The whole environment of the process (nothing is inherited). */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** A temporary folder of the process's own, removed when it stops or fails to start. */
  readonly dir?: string;
  /** The protocol probe: undefined once the broker answers, else why not yet. */
  readonly ready: () => Promise<string | undefined>;
  /** How long the start may take before it counts as failed. */
  readonly startTimeoutMs: number;
}

const STOP_GRACE_MS = 15_000;
const POLL_MS = 100;
const OUTPUT_KEPT = 4_000;

/**
 * Starts the process in its own process group (so that stopping it also ends
 * what it started: runuser's child, Erlang's VM) and resolves once `ready`
 * says the broker answers. A process that exits first, or a start past its
 * deadline, rejects with the end of its output; the group is killed and the
 * folder removed.
 */
export async function startLocalProcess(options: LocalProcessOptions): Promise<LocalProcess> {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd ?? options.dir ?? process.cwd(),
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = once(child, "exit");
  // A failed spawn (no such program) emits "error" and no "exit".
  const failed = once(child, "error").then(([error]) => {
    throw error;
  });
  failed.catch(() => undefined);
  const gone = Promise.race([exited, failed.catch(() => undefined)]);

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      killGroup(child.pid, signal);
      const timer = setTimeout(() => killGroup(child.pid as number, "SIGKILL"), STOP_GRACE_MS);
      await gone;
      clearTimeout(timer);
    }
    if (options.dir) await rm(options.dir, { recursive: true, force: true });
  };

  try {
    await untilReady(options, exited, failed);
  } catch (error) {
    await stop("SIGKILL");
    throw new Error(`${options.name} did not start: ${(error as Error).message}${tail(output)}`, {
      cause: error,
    });
  }
  return { pid: child.pid as number, stop };
}

async function untilReady(
  options: LocalProcessOptions,
  exited: Promise<unknown[]>,
  failed: Promise<never>,
): Promise<void> {
  const deadline = Date.now() + options.startTimeoutMs;
  const early = Promise.race([
    failed,
    exited.then(([code, signal]) => {
      throw new Error(`it exited (${signal ?? code}) before it answered`);
    }),
  ]);
  early.catch(() => undefined);
  let why = "no answer yet";
  while (Date.now() < deadline) {
    const answer = await Promise.race([options.ready(), early]);
    if (answer === undefined) return;
    why = answer;
    // Polling the broker's start, not a test's outcome: there is no event to wait for.
    await Promise.race([new Promise((resolve) => setTimeout(resolve, POLL_MS)), early]);
  }
  throw new Error(`no answer within ${options.startTimeoutMs} ms (last: ${why})`);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function tail(output: string): string {
  const text = output.trim();
  return text ? `\n--- its output, last lines ---\n${text}` : "";
}
