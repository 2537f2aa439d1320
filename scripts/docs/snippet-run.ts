import { execFile } from "node:child_process";
import type { SnippetFile } from "./snippet-project.js";

/** How one runnable snippet ended. */
export interface RunResult {
  readonly snippet: SnippetFile;
  readonly ok: boolean;
  /** Why it failed: the exit code or the timeout, and what it printed. */
  readonly failure?: string;
  readonly ms: number;
}

/**
 * A snippet has this long to run and exit by itself: tsx compiles it and the
 * packages' sources first, which on a loaded 2-core machine takes seconds. A
 * snippet that leaves a connection open does not exit, and fails here.
 */
export const RUN_TIMEOUT_MS = 60_000;
/** Snippets run two at a time: the machine has two cores. */
const CONCURRENCY = 2;

/** The brokers of this machine, as the test suite finds them; the environment wins. */
export function brokerEnvironment(sqsEndpoint?: string): Record<string, string> {
  return {
    CARROT_AMQP_URL: process.env.CARROT_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
    CARROT_REDIS_URL: process.env.CARROT_REDIS_URL ?? "redis://127.0.0.1:6379",
    ...(sqsEndpoint ? { CARROT_SQS_ENDPOINT: sqsEndpoint } : {}),
    // What the AWS SDK's default provider chain reads; an emulator takes any.
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "carrot-docs",
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "carrot-docs",
    AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
  };
}

/**
 * Runs each snippet as `node --import tsx <file>` in the snippets' project,
 * with the packages' sources (`@carrot/source`), until it exits or
 * RUN_TIMEOUT_MS passes. It passes when it exits with 0.
 */
export async function runSnippets(
  cwd: string,
  snippets: readonly SnippetFile[],
  env: Record<string, string>,
): Promise<RunResult[]> {
  const tsx = import.meta.resolve("tsx");
  const results: RunResult[] = [];
  const queue = [...snippets];
  const worker = async () => {
    for (let snippet = queue.shift(); snippet; snippet = queue.shift()) {
      results.push(await runOne(snippet, cwd, tsx, env));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results.sort((a, b) => snippets.indexOf(a.snippet) - snippets.indexOf(b.snippet));
}

function runOne(
  snippet: SnippetFile,
  cwd: string,
  tsx: string,
  env: Record<string, string>,
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=@carrot/source", "--import", tsx, snippet.path],
      {
        cwd,
        env: { ...process.env, ...env },
        timeout: RUN_TIMEOUT_MS,
        killSignal: "SIGKILL",
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const ms = Date.now() - started;
        if (!error) return resolve({ snippet, ok: true, ms });
        const why = error.killed
          ? `did not exit within ${RUN_TIMEOUT_MS / 1000} s (a connection or consumer left open?)`
          : `exited with ${error.code ?? error.signal}`;
        const printed = `${stdout}${stderr}`.trim();
        resolve({
          snippet,
          ok: false,
          ms,
          failure: printed ? `${why}; it printed:\n${printed}` : why,
        });
      },
    );
  });
}
