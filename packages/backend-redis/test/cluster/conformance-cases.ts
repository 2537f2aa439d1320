import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisBackend } from "../../src/index.js";
import { KeyLayout } from "../../src/key-layout.js";
import {
  clusterUrlWith,
  clusterWanted,
  rawCluster,
  removeClusterKeys,
  SKIPPED,
} from "../support/cluster.js";
import { uniquePrefix } from "../support/redis.js";

/** Child processes connect by URL: the scheme is registered in them by the package's register module. */
const REGISTER = new URL("../../src/register.ts", import.meta.url).href;

if (clusterWanted) {
  const prefix = uniquePrefix();
  afterAll(() => removeClusterKeys(prefix));
  const settings = { visibilityTimeout: 2000, claimInterval: 200 };
  const shortLeases = { visibilityTimeout: 1000, claimInterval: 100 };
  const raw = rawCluster();
  afterAll(() => raw.quit());
  const streamOf = (queue: string) => new KeyLayout(prefix).stream(queue);
  async function xadd(queue: string, envelope: string, body: Uint8Array): Promise<void> {
    await raw.xadd(streamOf(queue), "*", "b", Buffer.from(body), "m", envelope);
  }
  // Core's URL check reads one host: a multi-node URL goes with the backend given.
  const connect = (url: string) => new Connection({ url, backend: redisBackend });

  describeBackend("redis on a Redis Cluster (three masters, three replicas)", {
    connect: () => connect(clusterUrlWith(prefix, settings)),
    runner: { describe, it, expect, beforeAll, afterAll },
    processes: {
      // One seed is enough: the client learns the rest from it.
      url: clusterUrlWith(prefix, settings).replace(/,[^/]*/, ""),
      execArgv: ["--import", "tsx", "--conditions=@carrot/source", "--import", REGISTER],
    },
    delayToleranceMs: 1_500,
    leases: {
      connect: () => connect(clusterUrlWith(prefix, shortLeases)),
      leaseMs: shortLeases.visibilityTimeout,
    },
    hostile: {
      write: (queue, { body, contentType, contentEncoding, headers }) =>
        xadd(
          queue,
          JSON.stringify({ e: "", k: queue, c: contentType, n: contentEncoding, h: headers }),
          body,
        ),
      writeEnvelope: xadd,
    },
    // No fault group: a proxy in front of one node is bypassed, since the
    // cluster tells clients every node's own address (CLUSTER SLOTS, MOVED).
    // node-loss-cases.ts kills a master instead.
  });
} else {
  describe.skip(`redis conformance on a Redis Cluster: ${SKIPPED}`, () => {
    it("runs the whole suite", () => {});
  });
}
