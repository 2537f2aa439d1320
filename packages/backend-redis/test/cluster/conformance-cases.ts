import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisBackend } from "../../src/index.js";
import { KeyLayout } from "../../src/key-layout.js";
import {
  clusterNodes,
  clusterUrlWith,
  clusterWanted,
  natMapOf,
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
    // The cluster tells clients every node's own address (CLUSTER SLOTS,
    // MOVED): so the proxy listens for every node, and the connection maps
    // each node's address to its proxy port (ioredis's natMap), so that no
    // node is reached around the proxy. A fault hits all nodes at once.
    faults: {
      target: clusterNodes()[0] as { host: string; port: number },
      targets: clusterNodes(),
      connectThrough: (_port, overrides, ports) => {
        if (!ports)
          throw new Error("the suite gives connectThrough the proxy's port for each node");
        const seeds = [...ports.values()].map((p) => `127.0.0.1:${p}`).join(",");
        const url = clusterUrlWith(prefix, settings);
        return new Connection({
          url: `redis+cluster://${seeds}${url.slice(url.indexOf("/?"))}`,
          backend: redisBackend,
          reconnect: { initialDelay: 50, maxDelay: 500 },
          // A connection silent for two heartbeats is dropped: a case silences some.
          heartbeat: 1,
          transportOptions: { cluster: { natMap: natMapOf(ports) } },
          ...overrides,
        });
      },
    },
  });
} else {
  describe.skip(`redis conformance on a Redis Cluster: ${SKIPPED}`, () => {
    it("runs the whole suite", () => {});
  });
}
