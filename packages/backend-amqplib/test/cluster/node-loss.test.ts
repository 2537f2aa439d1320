import {
  CarrotError,
  Connection,
  ConnectionLostError,
  Consumer,
  NotFoundError,
  Publisher,
  PublishNackedError,
  PublishOutcomeUnknownError,
  PublishTimeoutError,
} from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { deferred, unique, within } from "../support/broker.js";
import { clusterScript, clusterUrls, clusterWanted, nodeOf, SKIPPED } from "../support/cluster.js";

const MESSAGES = 3_000;
/** Confirmed sends before node 1 is stopped: publishing and consuming are both under way. */
const STOP_AT = 1_000;

/** A connection that starts on node `node` and may fail over to every other node. */
function onNode(node: number, urls: readonly string[]): Connection {
  return new Connection({
    url: urls[node - 1],
    alternates: urls.filter((_, i) => i !== node - 1),
    reconnect: { initialDelay: 50, maxDelay: 1_000 },
  });
}

/** A connection's ups and downs: the node each connect reached, and when it went down. */
function connectLog(connection: Connection, urls: readonly string[]) {
  const log = { nodes: [] as number[], lostAt: 0, backAt: 0 };
  connection.on("connect", ({ host }) => {
    log.nodes.push(nodeOf(host, urls));
    if (log.lostAt) log.backAt = Date.now();
  });
  connection.on("disconnect", ({ error }) => {
    if (error) log.lostAt = Date.now();
  });
  return log;
}

describe.skipIf(!clusterWanted)(
  `a RabbitMQ cluster losing the node its clients use${clusterWanted ? "" : `: ${SKIPPED}`}`,
  { timeout: 300_000 },
  () => {
    const urls = clusterWanted ? clusterUrls() : [];
    const open: Connection[] = [];
    let node1Stopped = false;
    afterAll(async () => {
      for (const connection of open.reverse()) await connection.close();
      // The cluster is whole again for whatever runs next.
      if (node1Stopped) await clusterScript("start-node", "1");
    }, 300_000);

    it("quorum queue: 0 confirmed messages lost, both clients resume through another node, classic queues on the lost node fail clearly", async () => {
      const consuming = onNode(1, urls);
      const publishing = onNode(1, urls);
      // A publisher on a node that stays up: its channel outlives the queue's leader on node 1.
      const bystander = onNode(2, urls);
      open.push(consuming, publishing, bystander);
      const consumerNodes = connectLog(consuming, urls);
      const publisherNodes = connectLog(publishing, urls);
      const bystanderNodes = connectLog(bystander, urls);
      const queue = unique("quorum-ledger");
      const classic = unique("classic-on-node1");

      // A classic queue lives on the node that declared it: node 1.
      await consuming.declareQueue({ name: classic });
      const consumer = new Consumer<{ n: number }>(consuming, {
        queue,
        queueArguments: { queueType: "quorum", initialGroupSize: 3 },
        prefetchCount: 100,
      });
      await consumer.declare();

      // The ledger: what was confirmed, what was received and how often, how each failed send ended.
      const confirmed = new Set<number>();
      const received = new Map<number, number>();
      const failures = new Map<string, number>();
      let retried = 0;
      const allReceived = deferred();
      const check = () => {
        if (confirmed.size === MESSAGES && [...confirmed].every((n) => received.has(n)))
          allReceived.resolve();
      };
      let firstReceiptAfterStop: number | undefined;
      consumer.registerCallback(async ({ n }, message) => {
        received.set(n, (received.get(n) ?? 0) + 1);
        if (consumerNodes.backAt) firstReceiptAfterStop ??= Date.now();
        check();
        try {
          await message.ack();
        } catch (error) {
          // Cut before RabbitMQ answered: it may redeliver the message, which the ledger counts.
          if (!(error instanceof ConnectionLostError)) throw error;
        }
      });
      const consumed = consumer.wait();
      // The quorum queue's leader is where it was declared: on node 1, the node that will die.

      const publishers = [publishing, bystander].map(
        (connection) =>
          new Publisher<{ n: number }>(connection, { routingKey: queue, sendTimeout: 30_000 }),
      );
      let stopping: Promise<string> | undefined;
      let firstConfirmAfterStop: number | undefined;
      async function sendConfirmed(n: number, publisher: Publisher<{ n: number }>): Promise<void> {
        for (;;) {
          try {
            await publisher.send({ n });
            confirmed.add(n);
            if (publisherNodes.backAt) firstConfirmAfterStop ??= Date.now();
            if (!stopping && confirmed.size >= STOP_AT) {
              stopping = clusterScript("stop-node", "1");
              node1Stopped = true;
            }
            return;
          } catch (error) {
            // Every unconfirmed send settles with a typed outcome; those not known to be on the broker are sent again.
            expect(error).toBeInstanceOf(CarrotError);
            const name = (error as Error).constructor.name;
            failures.set(name, (failures.get(name) ?? 0) + 1);
            // A nack: RabbitMQ did not take it (a quorum queue electing its new leader refuses for a moment).
            const retry =
              error instanceof PublishNackedError ||
              error instanceof PublishOutcomeUnknownError ||
              error instanceof ConnectionLostError ||
              error instanceof PublishTimeoutError;
            if (!retry) throw error;
            retried++;
          }
        }
      }
      const lanes = 20;
      await within(
        Promise.all(
          Array.from({ length: lanes }, async (_, lane) => {
            const publisher = publishers[lane % 2]!;
            for (let n = lane; n < MESSAGES; n += lanes) await sendConfirmed(n, publisher);
          }),
        ),
        120_000,
        "every send to be confirmed",
        () =>
          `${confirmed.size} confirmed, ${received.size} received; failed sends: ${[...failures].map(([k, v]) => `${k} ${v}`).join(", ")}`,
      );
      await stopping;
      check();
      await within(allReceived.promise, 120_000, "every confirmed message to be received", () => {
        const missing = [...confirmed].filter((n) => !received.has(n));
        return `${missing.length} confirmed messages not received: ${missing.slice(0, 20).join(", ")}`;
      });

      // 0 confirmed lost; nothing received that was never sent.
      expect(confirmed.size).toBe(MESSAGES);
      expect([...received.keys()].filter((n) => !confirmed.has(n))).toEqual([]);
      // Both started on node 1 and carried on through another node, once.
      expect(consumerNodes.nodes).toEqual([1, expect.toBeOneOf([2, 3])]);
      expect(publisherNodes.nodes).toEqual([1, expect.toBeOneOf([2, 3])]);
      expect(bystanderNodes.nodes).toEqual([2]);
      // The failed sends were only the typed outcomes of a lost connection.
      expect(
        [...failures.keys()].filter(
          (name) =>
            ![
              "PublishNackedError",
              "PublishOutcomeUnknownError",
              "ConnectionLostError",
              "PublishTimeoutError",
            ].includes(name),
        ),
      ).toEqual([]);

      // A classic queue whose node is down: a clear error, at once, not a hang.
      const declaring = within(consuming.declareQueue({ name: classic }), 10_000, "the declare");
      await expect(declaring).rejects.toThrow(NotFoundError);
      await expect(declaring).rejects.toThrow(/gone while its node is down/);

      const duplicates = [...received.values()].reduce((sum, count) => sum + count - 1, 0);
      const recovery = (log: typeof consumerNodes) => log.backAt - log.lostAt;
      console.log(
        `node loss: ${MESSAGES} sent, ${confirmed.size} confirmed, 0 confirmed lost; ` +
          `${duplicates} duplicates received; ${retried} sends retried (${[...failures].map(([k, v]) => `${k} ${v}`).join(", ") || "none"}); ` +
          `publisher back on node ${publisherNodes.nodes.at(-1)} ${recovery(publisherNodes)} ms after its connection dropped, ` +
          `consumer on node ${consumerNodes.nodes.at(-1)} after ${recovery(consumerNodes)} ms; ` +
          `first confirm ${firstConfirmAfterStop! - publisherNodes.lostAt} ms and first receipt ${firstReceiptAfterStop! - consumerNodes.lostAt} ms after the drop`,
      );

      await consumer.close();
      await consumed;
      await consuming.deleteQueue(queue);
    });
  },
);
