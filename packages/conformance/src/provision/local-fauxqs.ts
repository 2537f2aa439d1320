import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { freePort } from "../free-port.js";
import { findPackageDir } from "./executables.js";
import { type LocalProcess, startLocalProcess } from "./local-process.js";
import { answersSqs } from "./protocol-probes.js";

/**
 * fauxqs's start, confined to 127.0.0.1: it listens on 0.0.0.0 whatever
 * FAUXQS_HOST says (that names the host in queue URLs only), which would make
 * the emulator reachable from the network. Its request logging is off: a
 * cost on every request.
 */
const SERVER = `
import net from "node:net";
import { startFauxqs } from "fauxqs";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (options, ...rest) {
  if (options && typeof options === "object" && options.host === "0.0.0.0")
    options = { ...options, host: "127.0.0.1" };
  return listen.call(this, options, ...rest);
};
const dataDir = process.env.FAUXQS_DATA_DIR;
await startFauxqs({ logger: false, ...(dataDir ? { dataDir } : {}) });
`;

/** Which fauxqs to start. */
export interface FauxqsOptions {
  /** The folder whose node_modules (or a parent's) hold fauxqs, and the `node` package if Node is older than 22.5; the working directory by default. */
  from?: string;
  /** The port on 127.0.0.1; a free one by default (give the old one to restart in place). */
  port?: number;
  /** Keeps the emulator's state in SQLite there, so that a restart finds its queues and messages; in memory by default. */
  dataDir?: string;
}

/** A running fauxqs. */
export interface Fauxqs extends LocalProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
}

/**
 * Starts the fauxqs SQS emulator (an npm package, no Docker needed) as its
 * own process on 127.0.0.1. It needs Node 22.5 or newer (node:sqlite): the
 * running Node when it is that new, else the binary of the `node` npm package
 * installed beside fauxqs. Throws, saying what to install, when either is missing.
 */
export async function startFauxqs(options: FauxqsOptions = {}): Promise<Fauxqs> {
  const found = locateFauxqs(options.from ?? process.cwd());
  if ("missing" in found) throw new Error(found.missing);
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const server = await startLocalProcess({
    name: "fauxqs",
    command: found.node,
    args: ["--no-warnings", "--input-type=module", "--eval", SERVER],
    // The folder holding node_modules/fauxqs: the inline script imports it from there.
    cwd: found.cwd,
    env: {
      ...process.env,
      FAUXQS_HOST: "127.0.0.1",
      FAUXQS_PORT: String(port),
      ...(options.dataDir ? { FAUXQS_DATA_DIR: options.dataDir } : {}),
    },
    ready: () => answersSqs(endpoint),
    startTimeoutMs: 30_000,
  });
  return { ...server, endpoint, port };
}

/**
 * The Node binary to run fauxqs with and the folder to run it in (above its
 * node_modules/fauxqs), or what is missing and how to install it.
 */
export function locateFauxqs(from: string): { node: string; cwd: string } | { missing: string } {
  const fauxqs = findPackageDir("fauxqs", from);
  if (!fauxqs)
    return {
      missing: `fauxqs is not installed in or above ${from} (npm install --save-dev fauxqs)`,
    };
  const node = nodeForFauxqs(from);
  if (!node)
    return {
      missing: `fauxqs needs Node 22.5 or newer (this is ${process.version}): run on it, or install its binary beside fauxqs (npm install --save-dev node@22)`,
    };
  return { node, cwd: dirname(dirname(fauxqs)) };
}

/**
 * The running Node when it has node:sqlite (22.5+), else the `node` npm
 * package's binary: that binary itself, not node_modules/.bin/node, a shell
 * wrapper whose death would leave the emulator running.
 */
function nodeForFauxqs(from: string): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major > 22 || (major === 22 && minor >= 5)) return process.execPath;
  const nodePackage = findPackageDir("node", from);
  const binary = nodePackage && join(nodePackage, "bin", "node");
  return binary && existsSync(binary) ? binary : undefined;
}
