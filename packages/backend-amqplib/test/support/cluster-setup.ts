import type { TestProject } from "vitest/node";
import { CLUSTER_FLAG, clusterScript, clusterWanted, SKIPPED } from "./cluster.js";

/**
 * The three-node cluster for test/cluster/, started once for the run when
 * CARROT_RABBITMQ_CLUSTER=1: reused if it is running already (CI starts it
 * beside the build), stopped afterwards only if started here. A missing
 * RabbitMQ fails the run, with what to install.
 */
export default async function setup(project: TestProject) {
  if (!clusterWanted) {
    console.log(`backend-amqplib: the RabbitMQ cluster tests are ${SKIPPED}`);
    return;
  }
  const outcome = (await clusterScript("start")).trim().split("\n").at(-1);
  project.provide("clusterUrls", (await clusterScript("urls")).trim().split("\n"));
  console.log(`backend-amqplib: RabbitMQ cluster ${outcome} (${CLUSTER_FLAG}=1)`);
  return async () => {
    if (outcome === "started") await clusterScript("stop");
  };
}
