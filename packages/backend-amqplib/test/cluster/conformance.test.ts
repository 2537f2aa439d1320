import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import type { BackendOptions } from "@carrot/core/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterUrls, clusterWanted, SKIPPED } from "../support/cluster.js";
import { delayPairsNoted } from "../support/delay-pairs.js";
import { rawWriter } from "../support/raw-writer.js";
import { QuorumWhereDurable } from "./quorum-where-durable.js";

/** Child processes (a consumer killed holding messages) declare durable queues as quorum too. */
const CHILD_QUORUM = new URL("./quorum-where-durable-child.ts", import.meta.url).href;

if (clusterWanted) {
  const urls = clusterUrls();
  const node1 = new URL(urls[0]!);
  const hostile = rawWriter(urls[0]!);
  afterAll(() => hostile.close());
  const delayPairs = delayPairsNoted(QuorumWhereDurable);
  const backend = (options: BackendOptions) => new delayPairs.Backend(options);
  afterAll(() => delayPairs.remove(urls[0]!));
  // Each connection starts on the next node, so that a publisher and a consumer are on different ones.
  let next = 0;
  describeBackend("amqplib on a three-node RabbitMQ cluster, durable queues quorum", {
    connect: () => {
      const first = next++ % urls.length;
      return new Connection({
        url: urls[first],
        alternates: urls.filter((_, i) => i !== first),
        backend,
      });
    },
    runner: { describe, it, expect, beforeAll, afterAll },
    // A killed child on node 1 (its connection there is what the cases kill).
    processes: {
      url: urls[0]!,
      execArgv: ["--import", "tsx", "--conditions=@carrot/source", "--import", CHILD_QUORUM],
    },
    hostile,
    faults: {
      target: { host: node1.hostname, port: Number(node1.port) },
      connectThrough: (port, overrides) => {
        const through = new URL(urls[0]!);
        through.port = String(port);
        return new Connection({
          url: through.href,
          backend,
          reconnect: { initialDelay: 50, maxDelay: 500 },
          heartbeat: 1,
          ...overrides,
        });
      },
    },
  });
} else {
  describe.skip(`amqplib conformance on a RabbitMQ cluster: ${SKIPPED}`, () => {
    it("runs the whole suite with quorum queues", () => {});
  });
}
