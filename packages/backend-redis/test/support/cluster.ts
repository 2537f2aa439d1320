import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Cluster } from "ioredis";
import { inject } from "vitest";

/**
 * Set to 1, the Redis Cluster tests run, against the six nodes that
 * `.ci/redis-cluster` starts (or finds running); unset, they are skipped,
 * saying so.
 */
export const CLUSTER_FLAG = "CARROT_REDIS_CLUSTER";
export const clusterWanted = process.env[CLUSTER_FLAG] === "1";
export const SKIPPED = `skipped: ${CLUSTER_FLAG} is not 1`;

const SCRIPT = fileURLToPath(new URL("../../../../.ci/redis-cluster", import.meta.url));

declare module "vitest" {
  interface ProvidedContext {
    /** The redis+cluster:// URL naming every node. */
    redisClusterUrl: string;
    /** Each node's host:port. */
    redisClusterNodes: string[];
  }
}

/** Runs `.ci/redis-cluster <args>`: its stdout, or an error carrying its stderr. */
export function clusterScript(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(SCRIPT, args, { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`.ci/redis-cluster ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts `.ci/redis-cluster <args>`: `firstLine` resolves with the first line
 * it prints (kill-master: the port, as soon as the node is dead), `done` when
 * it exits.
 */
export function clusterScriptLines(...args: string[]): {
  firstLine: Promise<string>;
  done: Promise<void>;
} {
  const child = spawn(SCRIPT, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let first: (line: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => {
    first = resolve;
  });
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes("\n")) first(stdout.split("\n")[0] as string);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`.ci/redis-cluster ${args.join(" ")} failed: ${stderr}`));
    });
  });
  return { firstLine, done };
}

/** The cluster's URL with every node, from the global setup. */
export function clusterUrl(): string {
  return inject("redisClusterUrl");
}

/** The nodes as ioredis seeds. */
export function clusterNodes(): { host: string; port: number }[] {
  return inject("redisClusterNodes").map((node) => {
    const [host = "127.0.0.1", port = "0"] = node.split(":");
    return { host, port: Number(port) };
  });
}

/** The cluster URL with a key prefix and settings as query parameters. */
export function clusterUrlWith(
  prefix: string,
  settings: Record<string, string | number> = {},
): string {
  const query = new URLSearchParams({ prefix });
  for (const [name, value] of Object.entries(settings)) query.set(name, String(value));
  return `${clusterUrl()}/?${query}`;
}

/**
 * ioredis's natMap for a client behind a FaultProxy started for every node:
 * each node's own address (`proxy.ports`' keys) to the proxy port that
 * forwards to it, so that the client reaches no node around the proxy.
 */
export function natMapOf(
  ports: ReadonlyMap<string, number>,
): Record<string, { host: string; port: number }> {
  return Object.fromEntries([...ports].map(([node, port]) => [node, { host: "127.0.0.1", port }]));
}

/** A plain ioredis Cluster client, for inspection and cleanup. */
export function rawCluster(): Cluster {
  return new Cluster(clusterNodes());
}

/** Deletes every key written under `prefix`, on every master. */
export async function removeClusterKeys(prefix: string): Promise<void> {
  const cluster = rawCluster();
  try {
    await cluster.ping();
    for (const node of cluster.nodes("master")) {
      for (const pattern of [`{${prefix}}*`, `{${prefix}:*`]) {
        let cursor = "0";
        do {
          const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
          cursor = next;
          // One key at a time: the keys of one SCAN are in many slots.
          for (const key of keys) await node.del(key).catch(() => {});
        } while (cursor !== "0");
      }
    }
  } finally {
    cluster.disconnect();
  }
}
