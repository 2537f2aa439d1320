import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/**
 * Starts the fauxqs SQS emulator for the test run, unless CARROT_SQS_ENDPOINT
 * points at another SQS (LocalStack, ElasticMQ, a real region's endpoint).
 * fauxqs needs Node >= 22.5 (node:sqlite), so it runs on the Node 22 binary
 * of the `node` dev dependency, whatever Node runs the tests. That binary is
 * started directly, not through node_modules/.bin/node: the .bin entry is a
 * shell wrapper, and killing the wrapper would leave the emulator running.
 */
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const NODE_22 = `${packageDir}node_modules/node/bin/node`;
const FAUXQS_SERVER = `${packageDir}test/fauxqs-server.mjs`;
const START_TIMEOUT = 15_000;

/** Tests read the endpoint from CARROT_SQS_ENDPOINT, which the workers inherit. */
export default async function setup(): Promise<() => Promise<void>> {
  // The SDK's default provider chain reads these; the emulator accepts any.
  process.env.AWS_ACCESS_KEY_ID ??= "carrot-test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "carrot-test";
  process.env.AWS_REGION ??= "us-east-1";
  if (process.env.CARROT_SQS_ENDPOINT) return async () => {};
  const emulator = await startEmulator();
  process.env.CARROT_SQS_ENDPOINT = emulator.endpoint; // test workers and the processes they spawn inherit it
  return async () => {
    delete process.env.CARROT_SQS_ENDPOINT;
    await emulator.stop();
  };
}

export interface Emulator {
  endpoint: string;
  port: number;
  /** SIGTERM (or SIGKILL), and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * One fauxqs process on 127.0.0.1: on a free port unless `port` is given
 * (a restart on the same port), in memory unless `dataDir` keeps its state
 * in SQLite (so that a restart finds its queues and messages again).
 */
export async function startEmulator({
  port,
  dataDir,
}: {
  port?: number;
  dataDir?: string;
} = {}): Promise<Emulator> {
  const listenPort = port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${listenPort}`;
  const child = spawn(NODE_22, ["--no-warnings", FAUXQS_SERVER], {
    cwd: packageDir,
    env: {
      ...process.env,
      FAUXQS_HOST: "127.0.0.1",
      FAUXQS_PORT: String(listenPort),
      ...(dataDir ? { FAUXQS_DATA_DIR: dataDir } : {}),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitUntilHealthy(endpoint, child);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`fauxqs did not start on ${endpoint}: ${(error as Error).message}\n${stderr}`, {
      cause: error,
    });
  }
  return {
    endpoint,
    port: listenPort,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// Not @carrot/conformance's freePort: vitest loads global setup files without
// the "@carrot/source" condition, so a workspace package here would resolve
// to its build, which a fresh checkout does not have before `pnpm build`.
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

async function waitUntilHealthy(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT;
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`fauxqs exited with code ${code}`);
  });
  exited.catch(() => undefined);
  while (Date.now() < deadline) {
    const healthy = await Promise.race([
      fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.ok,
        () => false,
      ),
      exited,
    ]);
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 50)); // polling the server's start, not a test's outcome
  }
  throw new Error(`no answer from ${endpoint}/health within ${START_TIMEOUT} ms`);
}
