import { Connection, Consumer, Publisher, PublishNackedError } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { rawRedis, redisUrl, removeKeys, unique, uniquePrefix, within } from "./support/redis.js";

describe("routing through the binding table in Redis", () => {
  const prefix = uniquePrefix();
  const open: Connection[] = [];
  const connect = () => {
    const conn = new Connection(redisUrl(prefix));
    open.push(conn);
    return conn;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await removeKeys(prefix);
  });

  it("delivers to a queue that another connection bound", async () => {
    const exchange = unique("orders");
    const consumerConn = connect();
    const consumer = new Consumer<{ n: number }>(consumerConn, {
      queue: unique("q"),
      exchange,
      exchangeType: "topic",
      routingKey: "order.*",
    });
    await consumer.declare();
    const publisher = new Publisher(connect(), { exchange, exchangeType: "topic" });
    await publisher.send({ n: 1 }, { routingKey: "order.created" });
    await publisher.send({ n: 2 }, { routingKey: "invoice.created" });
    await publisher.send({ n: 3 }, { routingKey: "order.paid" });
    const seen: number[] = [];
    consumer.registerCallback(async (data, message) => {
      seen.push(data.n);
      await message.ack();
    });
    await within(consumer.wait({ limit: 2 }), 10_000, "two messages");
    expect(seen).toEqual([1, 3]);
    expect(await consumer.fetch()).toBeNull();
  });

  it("fans out to every bound queue in one atomic script", async () => {
    const exchange = unique("feed");
    const conn = connect();
    const queues = [unique("a"), unique("b"), unique("c")];
    for (const queue of queues) {
      await new Consumer(conn, { queue, exchange, exchangeType: "fanout" }).declare();
    }
    const redis = rawRedis();
    try {
      // MONITOR would be too broad; instead count XADDs via the streams' lengths after one send.
      await new Publisher(conn, { exchange, exchangeType: "fanout" }).send("hello");
      const lengths = await Promise.all(queues.map((q) => redis.xlen(`{${prefix}:${q}}:stream`)));
      expect(lengths).toEqual([1, 1, 1]);
    } finally {
      redis.disconnect();
    }
  });

  it("a publish Redis refuses fails alone: the sends batched with it are stored", async () => {
    const conn = connect();
    const [broken, healthy] = [unique("broken"), unique("healthy")];
    for (const queue of [broken, healthy]) await conn.declareQueue({ name: queue });
    const redis = rawRedis();
    try {
      // A stream key overwritten by something else: XADD to it fails with WRONGTYPE.
      await redis.del(`{${prefix}:${broken}}:stream`);
      await redis.set(`{${prefix}:${broken}}:stream`, "not a stream");
      const publisher = new Publisher(conn, { exchange: "" });
      // Sent in one tick, so they travel in one call of the publish script.
      const outcomes = await Promise.allSettled([
        publisher.send("one", { routingKey: healthy }),
        publisher.send("two", { routingKey: broken }),
        publisher.send("three", { routingKey: healthy }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const refused = (outcomes[1] as PromiseRejectedResult).reason;
      expect(refused).toBeInstanceOf(PublishNackedError);
      expect(String(refused.message)).toMatch(/WRONGTYPE/);
      expect(await redis.xlen(`{${prefix}:${healthy}}:stream`)).toBe(2);
    } finally {
      redis.disconnect();
    }
  });
});
