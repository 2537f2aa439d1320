import {
  Connection,
  Consumer,
  InvalidOptionsError,
  Publisher,
  PublishNackedError,
} from "@carrot/core";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { redisBackend } from "../../src/index.js";
import { KeyLayout } from "../../src/key-layout.js";
import {
  clusterNodes,
  clusterUrlWith,
  clusterWanted,
  rawCluster,
  removeClusterKeys,
  SKIPPED,
} from "../support/cluster.js";
import { deferred, unique, uniquePrefix, within } from "../support/redis.js";

describe.skipIf(!clusterWanted)(
  `what is and is not atomic across a Redis Cluster's slots${clusterWanted ? "" : `: ${SKIPPED}`}`,
  () => {
    const prefix = uniquePrefix();
    const keys = new KeyLayout(prefix);
    const open: Connection[] = [];
    const raw = clusterWanted ? rawCluster() : undefined;
    afterAll(async () => {
      await Promise.all(open.splice(0).map((connection) => connection.close()));
      raw?.disconnect();
      await removeClusterKeys(prefix);
    });
    const connect = () => {
      const connection = new Connection({ url: clusterUrlWith(prefix), backend: redisBackend });
      open.push(connection);
      return connection;
    };
    const slotOf = async (key: string) => Number(await raw!.call("CLUSTER", "KEYSLOT", key));
    const drain = async (connection: Connection, queue: string) => {
      const consumer = new Consumer<string>(connection, { queue });
      const payloads: string[] = [];
      for (let message = await consumer.fetch(); message; message = await consumer.fetch()) {
        payloads.push(message.payload);
        await message.ack();
      }
      return payloads;
    };

    it("a fan-out is confirmed only when every slot stored it: one slot refusing fails the send, and sending again duplicates into the others, never loses", async () => {
      const connection = connect();
      const exchange = unique("fan");
      const queues = [unique("a"), unique("b"), unique("c")];
      for (const queue of queues) {
        await new Consumer(connection, { queue, exchange, exchangeType: "fanout" }).declare();
      }
      // The queues are in different slots: one script each.
      expect(new Set(await Promise.all(queues.map((q) => slotOf(keys.stream(q))))).size).toBe(3);
      const [, broken] = queues as [string, string, string];
      // Queue b's stream replaced by a string: its slot's script fails (WRONGTYPE), the others store.
      await raw!.del(keys.stream(broken));
      await raw!.set(keys.stream(broken), "not a stream");
      const publisher = new Publisher<string>(connection, { exchange, exchangeType: "fanout" });
      const failed = await publisher.send("m").catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(PublishNackedError);
      expect(String(failed)).toMatch(/WRONGTYPE.*stored in 2 of its queues/);
      await raw!.del(keys.stream(broken));
      await raw!.xgroup("CREATE", keys.stream(broken), keys.group, "0", "MKSTREAM");
      await publisher.send("m");
      const [a, b, c] = await Promise.all(queues.map((queue) => drain(connection, queue)));
      expect({ a, b, c }).toEqual({ a: ["m", "m"], b: ["m"], c: ["m", "m"] });
    });

    it("a publisher's cached route sees a binding made by another connection before its send (the version check precedes the stores)", async () => {
      const [publishing, admin] = [connect(), connect()];
      const exchange = unique("topic");
      const [first, second] = [unique("first"), unique("second")];
      await new Consumer(admin, {
        queue: first,
        exchange,
        exchangeType: "topic",
        routingKey: "k",
      }).declare();
      await admin.declareQueue({ name: second });
      const publisher = new Publisher<string>(publishing, {
        exchange,
        exchangeType: "topic",
        routingKey: "k",
      });
      await publisher.send("one"); // cached: k -> first
      await admin.bindQueue({ queue: second, exchange, routingKey: "k" });
      await publisher.send("two");
      await admin.unbindQueue({ queue: first, exchange, routingKey: "k" });
      await publisher.send("three");
      expect(await drain(admin, first)).toEqual(["one", "two"]);
      expect(await drain(admin, second)).toEqual(["two", "three"]);
    });

    it("a delayed fan-out is released into every slot's queue", async () => {
      const connection = connect();
      const exchange = unique("later");
      const queues = [unique("x"), unique("y")];
      const arrived = queues.map(() => deferred<string>());
      for (const [i, queue] of queues.entries()) {
        const consumer = new Consumer<string>(connection, {
          queue,
          exchange,
          exchangeType: "fanout",
        });
        await consumer.declare();
        consumer.registerCallback(async (payload, message) => {
          arrived[i]!.resolve(payload);
          await message.ack();
        });
        void consumer.wait();
      }
      await new Publisher<string>(connection, { exchange, exchangeType: "fanout" }).send("d", {
        delay: 200,
      });
      expect(
        await within(Promise.all(arrived.map((a) => a.promise)), 10_000, "both queues"),
      ).toEqual(["d", "d"]);
    });

    it("a redis:// URL naming a cluster node fails at connect with InvalidOptionsError saying to use redis+cluster://", async () => {
      const [{ host, port }] = clusterNodes() as [{ host: string; port: number }];
      const connection = new Connection({ url: `redis://${host}:${port}`, reconnect: false });
      const error = await connection.connect().catch((failure: unknown) => failure);
      await connection.close();
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect(String(error)).toContain(`redis+cluster://${host}:${port}`);
    });

    it("a slot migration under publish and consume (MOVED, ASK): every confirmed message received", async () => {
      const [publishing, consuming] = [connect(), connect()];
      const queue = unique("moving");
      const consumer = new Consumer<{ n: number }>(consuming, { queue, prefetchCount: 50 });
      await consumer.declare();
      const received = new Set<number>();
      const confirmed = new Set<number>();
      const complete = deferred<void>();
      let sendsDone = false;
      const check = () => {
        if (sendsDone && [...confirmed].every((n) => received.has(n))) complete.resolve();
      };
      consumer.registerCallback(async ({ n }, message) => {
        received.add(n);
        check();
        await message.ack().catch(() => {});
      });
      const consumed = consumer.wait();
      const publisher = new Publisher<{ n: number }>(publishing, { routingKey: queue });
      const slot = await slotOf(keys.stream(queue));
      const migrated = deferred<void>();
      let next = 0;
      const sender = async () => {
        while (next < 2_000) {
          const n = next++;
          if (n === 500) void migrateSlot(slot).then(migrated.resolve, migrated.reject);
          for (;;) {
            try {
              await publisher.send({ n });
              confirmed.add(n);
              break;
            } catch {
              // A typed failure is sent again (it may duplicate, never lose).
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, sender));
      await migrated.promise;
      sendsDone = true;
      check();
      await within(
        complete.promise,
        60_000,
        "every confirmed message",
        () => `${[...confirmed].filter((n) => !received.has(n)).length} not received`,
      );
      await consumer.cancel();
      await consumed;
      expect(confirmed.size).toBe(2_000);
    }, 120_000);
  },
);

/** Moves `slot` to another master, as `redis-cli --cluster reshard` does, one MIGRATE for all its keys. */
async function migrateSlot(slot: number): Promise<void> {
  const nodes = clusterNodes().map(({ host, port }) => new Redis({ host, port }));
  try {
    const masters: { redis: Redis; id: string; port: number; slots: string }[] = [];
    for (const redis of nodes) {
      const line = String(await redis.call("CLUSTER", "NODES"))
        .split("\n")
        .find((l) => l.includes("myself"));
      if (!line?.includes("master")) continue;
      const [id = "", address = "", , , , , , , ...slots] = line.split(" ");
      masters.push({
        redis,
        id,
        port: Number(address.split(":")[1]?.split("@")[0]),
        slots: slots.join(" "),
      });
    }
    const owns = (slots: string) =>
      slots.split(" ").some((range) => {
        const [low, high = low] = range.split("-").map(Number);
        return low !== undefined && high !== undefined && slot >= low && slot <= high;
      });
    const source = masters.find((m) => owns(m.slots));
    const target = masters.find((m) => m !== source);
    if (!source || !target) throw new Error(`no source or target master for slot ${slot}`);
    await target.redis.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source.id);
    await source.redis.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target.id);
    const keys = (await source.redis.call("CLUSTER", "GETKEYSINSLOT", slot, 1000)) as string[];
    if (keys.length > 0) {
      await source.redis.call("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", ...keys);
    }
    for (const master of [target, source, ...masters.filter((m) => m !== source && m !== target)]) {
      await master.redis.call("CLUSTER", "SETSLOT", slot, "NODE", target.id);
    }
  } finally {
    for (const redis of nodes) redis.disconnect();
  }
}
