import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

const START_TIMEOUT = 10_000;

export interface RedisServer {
  /** SIGTERM, and waits for the process to exit. */
  stop(): Promise<void>;
}

/**
 * A redis-server process of the test's own (a TLS server, a Sentinel), from
 * the machine's Redis install, started with `args` and ready once its log
 * (on stdout) matches `ready`. Fails with its output if it does not start.
 */
export async function startRedisServer(args: string[], ready: RegExp): Promise<RedisServer> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server ${args.join(" ")} did not start: ${output}`)),
      START_TIMEOUT,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not be run (is Redis installed?): ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}: ${output}`));
    });
  });
  try {
    await started;
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return { stop: () => stopProcess(child) };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}
