import {
  CarrotError,
  Connection,
  Consumer,
  Publisher,
  PublishNackedError,
  PublishOutcomeUnknownError,
} from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { redisBackend } from "../../src/index.js";
import { KeyLayout } from "../../src/key-layout.js";
import {
  clusterScript,
  clusterScriptLines,
  clusterUrlWith,
  clusterWanted,
  rawCluster,
  removeClusterKeys,
  SKIPPED,
} from "../support/cluster.js";
import { deferred, unique, uniquePrefix, within } from "../support/redis.js";

const MESSAGES = 3_000;
/** Confirmed sends before the queue's master is killed: publishing and consuming are both under way. */
const KILL_AT = 1_000;
/** Sends in flight at once. */
const WINDOW = 50;
/** `.ci/redis-cluster` numbers its nodes from this port: node N listens on BASE + N - 1. */
const BASE_PORT = Number(process.env.CARROT_REDIS_CLUSTER_BASE_PORT ?? 7101);
const nodeOf = (port: number) => String(port - BASE_PORT + 1);

describe.skipIf(!clusterWanted)(
  `a Redis Cluster losing the master of the queue's slot${clusterWanted ? "" : `: ${SKIPPED}`}`,
  { timeout: 300_000 },
  () => {
    const prefix = uniquePrefix();
    const open: Connection[] = [];
    let killedPort: number | undefined;
    afterAll(async () => {
      for (const connection of open.reverse()) await connection.close();
      // The killed node comes back (as a replica) for whatever runs next.
      if (killedPort !== undefined) await clusterScript("restart", nodeOf(killedPort));
      await removeClusterKeys(prefix);
    }, 120_000);

    it("kill -9 during publish and consume: 0 confirmed lost, both resume after the replica's promotion", async () => {
      const connect = () => {
        const connection = new Connection({
          url: clusterUrlWith(prefix, { visibilityTimeout: 5_000 }),
          backend: redisBackend,
          reconnect: { initialDelay: 50, maxDelay: 1_000 },
        });
        // Node errors during the failover are expected: kept, with the connection's
        // other events since the kill, to explain a timeout.
        const since = () => (killedAt ? `${Date.now() - killedAt} ms` : "before the kill");
        connection.on("error", ({ error }) =>
          events.push(`${since()}: error ${error.name}: ${error.message}`),
        );
        connection.on("disconnect", () => events.push(`${since()}: disconnect`));
        connection.on("reconnect", () => events.push(`${since()}: reconnect`));
        open.push(connection);
        return connection;
      };
      /** The connections' events, last 50: what a timeout reports. */
      const events: string[] = [];
      const publishing = connect();
      const consuming = connect();
      const queue = unique("ledger");
      const consumer = new Consumer<{ n: number }>(consuming, { queue, prefetchCount: 100 });
      await consumer.declare();
      const publisher = new Publisher<{ n: number }>(publishing, { routingKey: queue });

      // The ledger: what was confirmed, what was received and how often, how failed sends ended.
      const confirmed = new Set<number>();
      const received = new Map<number, number>();
      const failures = new Map<string, number>();
      let killedAt = 0;
      let firstReceivedAfterKill = 0;
      let firstConfirmedAfterKill = 0;
      let killing: Promise<void> | undefined;
      let promotedAt = 0;
      let replicaBackAt = 0;

      // Resolved once every send is confirmed and every confirmed message received.
      const complete = deferred<void>();
      let sendsDone = false;
      const check = () => {
        if (sendsDone && [...confirmed].every((n) => received.has(n))) complete.resolve();
      };
      let lostAcks = 0;
      consumer.registerCallback(async ({ n }, message) => {
        received.set(n, (received.get(n) ?? 0) + 1);
        if (killedAt && !firstReceivedAfterKill) firstReceivedAfterKill = Date.now();
        check();
        // An ack lost to the failover comes back as a redelivery: counted as a duplicate.
        await message.ack().catch(() => lostAcks++);
      });
      const consuming_ = consumer.wait();

      const slot = await withRaw((raw) =>
        raw.call("CLUSTER", "KEYSLOT", new KeyLayout(prefix).stream(queue)),
      );
      // Sends wait while the kill itself runs, so that it lands mid-flow, not after the last send.
      const killed = deferred<void>();
      const kill = async () => {
        const script = clusterScriptLines("kill-master", String(slot));
        // The script prints the port as soon as the node is dead, then waits for the promotion.
        killedPort = Number(await script.firstLine);
        killedAt = Date.now();
        killed.resolve();
        await script.done;
        promotedAt = Date.now();
        // The killed node back as the new master's replica, so that sends can
        // again be confirmed by a replica (replicas=1).
        await clusterScript("restart", nodeOf(killedPort));
        replicaBackAt = Date.now();
      };

      const send = async (n: number) => {
        for (;;) {
          try {
            if (killing) await killed.promise;
            await publisher.send({ n });
            confirmed.add(n);
            if (killedAt && !firstConfirmedAfterKill) firstConfirmedAfterKill = Date.now();
            if (confirmed.size === KILL_AT) killing = kill();
            return;
          } catch (error) {
            // Any typed failure is sent again: an unknown outcome may duplicate, never lose.
            if (!(error instanceof CarrotError)) throw error;
            const kind =
              error instanceof PublishOutcomeUnknownError
                ? "outcome unknown"
                : error instanceof PublishNackedError
                  ? "nacked"
                  : error.constructor.name;
            failures.set(kind, (failures.get(kind) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      };
      let next = 0;
      await Promise.all(
        Array.from({ length: WINDOW }, async () => {
          while (next < MESSAGES) await send(next++);
        }),
      );
      await killing;
      sendsDone = true;
      check();
      await within(
        complete.promise,
        120_000,
        "every confirmed message",
        () =>
          `${[...confirmed].filter((n) => !received.has(n)).length} confirmed messages not received`,
      ).catch(async (error: Error) => {
        // What Redis holds for the queue's group and its consumers, and what the connections saw.
        const stream = new KeyLayout(prefix).stream(queue);
        const state = await withRaw(async (raw) =>
          JSON.stringify([
            await raw.call("XLEN", stream),
            await raw.call("XINFO", "GROUPS", stream),
            await raw.call("XINFO", "CONSUMERS", stream, new KeyLayout(prefix).group),
          ]),
        ).catch((failed: unknown) => `unreadable: ${String(failed)}`);
        throw new Error(
          `${error.message}; received after the kill: ${firstReceivedAfterKill ? "some" : "none"}; stream length, group, consumers: ${state}; events: ${events.slice(-50).join(" | ")}`,
          { cause: error },
        );
      });
      await consumer.cancel();
      await consuming_;

      const lost = [...confirmed].filter((n) => !received.has(n));
      const duplicates = [...received.values()].filter((count) => count > 1).length;
      console.log(
        `redis cluster node loss: ${confirmed.size} confirmed, ${received.size} received, ${lost.length} lost, ` +
          `${duplicates} duplicated (${lostAcks} acks failed); failed sends retried: ${JSON.stringify(Object.fromEntries(failures))}; ` +
          `after the kill: replica promoted at ${promotedAt - killedAt} ms, killed node back as a replica at ${replicaBackAt - killedAt} ms, ` +
          `first receipt at ${firstReceivedAfterKill - killedAt} ms, first confirmed send at ${firstConfirmedAfterKill - killedAt} ms`,
      );
      expect(confirmed.size).toBe(MESSAGES);
      expect(lost).toEqual([]);
      expect(firstReceivedAfterKill).toBeGreaterThan(0);
    });
  },
);

async function withRaw<T>(work: (raw: ReturnType<typeof rawCluster>) => Promise<T>): Promise<T> {
  const raw = rawCluster();
  try {
    return await work(raw);
  } finally {
    raw.disconnect();
  }
}
