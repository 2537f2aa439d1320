import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";

/**
 * Set to 1, the cluster tests run, against the three-node RabbitMQ that
 * `.ci/rabbitmq-cluster` starts (or finds running); unset, they are skipped,
 * saying so. `.ci/run` sets it on one of its three runs.
 */
export const CLUSTER_FLAG = "CARROT_RABBITMQ_CLUSTER";
export const clusterWanted = process.env[CLUSTER_FLAG] === "1";
export const SKIPPED = `skipped: ${CLUSTER_FLAG} is not 1 (.ci/run sets it on its Node 20 run)`;

const SCRIPT = fileURLToPath(new URL("../../../../.ci/rabbitmq-cluster", import.meta.url));

declare module "vitest" {
  interface ProvidedContext {
    /** The AMQP URL of each node, node 1 first. */
    clusterUrls: string[];
  }
}

/** Runs `.ci/rabbitmq-cluster <args>`: its stdout, or an error carrying its stderr. */
export function clusterScript(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(SCRIPT, args, { timeout: 300_000 }, (error, stdout, stderr) => {
      if (error)
        reject(
          new Error(`.ci/rabbitmq-cluster ${args.join(" ")} failed: ${stderr || error.message}`),
        );
      else resolve(stdout);
    });
  });
}

/** The nodes' URLs, from the global setup. */
export function clusterUrls(): string[] {
  return inject("clusterUrls");
}

/** Which node (1-3) a `connect` event's host names. */
export function nodeOf(host: string, urls: readonly string[]): number {
  const index = urls.findIndex((url) => new URL(url).host === host);
  if (index < 0) throw new Error(`${host} is none of the cluster's nodes`);
  return index + 1;
}
