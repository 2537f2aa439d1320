import type { TestProject } from "vitest/node";
import { CLUSTER_FLAG, clusterScript, clusterWanted, SKIPPED } from "./cluster.js";

/**
 * The Redis Cluster for test/cluster/, started once for the run when
 * CARROT_REDIS_CLUSTER=1: reused if it is running already, stopped
 * afterwards only if started here. A missing redis-server fails the run,
 * with what to install.
 */
export default async function setup(project: TestProject) {
  if (!clusterWanted) {
    console.log(`backend-redis: the Redis Cluster tests are ${SKIPPED}`);
    return;
  }
  const outcome = (await clusterScript("start")).trim().split("\n").at(-1);
  const [url = "", ...nodes] = (await clusterScript("urls")).trim().split("\n");
  project.provide("redisClusterUrl", url);
  project.provide("redisClusterNodes", nodes);
  console.log(`backend-redis: Redis Cluster ${outcome} (${CLUSTER_FLAG}=1)`);
  return async () => {
    if (outcome === "started") await clusterScript("stop");
  };
}
