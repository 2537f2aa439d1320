import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import type { BackendOptions, QueueDeclaration } from "@carrot/core/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmqplibBackend } from "../../src/index.js";
import { clusterUrls, clusterWanted, SKIPPED } from "../support/cluster.js";
import { rawWriter } from "../support/raw-writer.js";

/**
 * For this test only: every durable, shared queue the suite declares is
 * declared as a quorum queue, the kind a cluster is for. The suite has no
 * option for a queue type; queues a quorum queue cannot be (transient,
 * exclusive, auto-delete, priority) stay classic.
 */
class QuorumWhereDurable extends AmqplibBackend {
  override declareQueue(queue: QueueDeclaration): Promise<void> {
    return super.declareQueue(asQuorum(queue));
  }
}

function asQuorum(queue: QueueDeclaration): QueueDeclaration {
  const args = queue.arguments;
  const classicOnly =
    !queue.durable ||
    queue.exclusive ||
    queue.autoDelete ||
    args.maxPriority !== undefined ||
    args.queueType !== undefined ||
    args["x-queue-type"] !== undefined;
  return classicOnly ? queue : { ...queue, arguments: { ...args, queueType: "quorum" } };
}

if (clusterWanted) {
  const urls = clusterUrls();
  const node1 = new URL(urls[0]!);
  const hostile = rawWriter(urls[0]!);
  afterAll(() => hostile.close());
  // Each connection starts on the next node, so that a publisher and a consumer are on different ones.
  let next = 0;
  describeBackend("amqplib on a three-node RabbitMQ cluster, durable queues quorum", {
    connect: () => {
      const first = next++ % urls.length;
      return new Connection({
        url: urls[first],
        alternates: urls.filter((_, i) => i !== first),
        backend: (options: BackendOptions) => new QuorumWhereDurable(options),
      });
    },
    runner: { describe, it, expect, beforeAll, afterAll },
    // The killed child owns an exclusive (so classic) queue: a plain connection to node 1 is enough.
    processes: { url: urls[0]!, execArgv: ["--import", "tsx", "--conditions=@carrot/source"] },
    hostile,
    faults: {
      target: { host: node1.hostname, port: Number(node1.port) },
      connectThrough: (port, overrides) => {
        const through = new URL(urls[0]!);
        through.port = String(port);
        return new Connection({
          url: through.href,
          backend: (options: BackendOptions) => new QuorumWhereDurable(options),
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
