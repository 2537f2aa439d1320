import { Connection, Consumer, Publisher, PublishNackedError } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { decodeEntry } from "../src/message-codec.js";
import { rawRedis, redisUrl, removeKeys, unique, uniquePrefix, within } from "./support/redis.js";

/**
 * The publish script takes a batch as runs of messages that share a route,
 * an envelope, an expiration and a delay (publish-batcher.ts): these sends,
 * made in one tick so that they travel in one call, change each of those
 * from one message to the next, and come back to an earlier one.
 */
describe("a batch of publishes whose messages differ", () => {
  const prefix = uniquePrefix();
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await removeKeys(prefix);
  });

  it("stores each message with its own queue, envelope, expiry and delay", async () => {
    const conn = new Connection(redisUrl(prefix));
    open.push(conn);
    const [a, b] = [unique("a"), unique("b")];
    for (const name of [a, b]) await conn.declareQueue({ name });
    const toA = new Publisher(conn, { routingKey: a });
    const toB = new Publisher(conn, { routingKey: b });
    await Promise.all([toA.send("warm-up"), toB.send("warm-up")]); // declared: the sends below share a tick
    const redis = rawRedis();
    try {
      for (const name of [a, b]) await redis.xtrim(`{${prefix}:${name}}:stream`, "MAXLEN", 0);
      await Promise.all([
        toA.send("a1"),
        toA.send("a2"),
        toA.send("a3", { headers: { tenant: "t1" } }),
        toB.send("b1"),
        toA.send("a4"),
        toA.send("a5", { expiration: 60_000 }),
        toA.send("a6", { expiration: 60_000, headers: { tenant: "t2" } }),
        toA.send("a7", { delay: 50 }),
        toA.send("held", { delay: 600_000 }),
        toA.send("a8"),
      ]);
      const stored = async (queue: string) =>
        (await redis.xrangeBuffer(`{${prefix}:${queue}}:stream`, "-", "+")).map(([id, fields]) =>
          decodeEntry(id.toString(), fields),
        );
      const inA = await stored(a);
      expect(inA.map((e) => JSON.parse(e.message.body.toString()))).toEqual([
        "a1",
        "a2",
        "a3",
        "a4",
        "a5",
        "a6",
        "a8",
      ]);
      expect(inA.map((e) => e.message.headers.tenant)).toEqual([
        undefined,
        undefined,
        "t1",
        undefined,
        undefined,
        "t2",
        undefined,
      ]);
      expect(inA.map((e) => e.expiresAt !== undefined)).toEqual([
        false,
        false,
        false,
        false,
        true,
        true,
        false,
      ]);
      expect(inA.map((e) => e.routingKey)).toEqual(Array(7).fill(a));
      const inB = await stored(b);
      expect(inB.map((e) => [JSON.parse(e.message.body.toString()), e.routingKey])).toEqual([
        ["b1", b],
      ]);
      // Both delayed ones are held, each due after its own delay.
      const [, first, , second] = await redis.zrange(
        `{${prefix}}:delayed`,
        "0",
        "-1",
        "WITHSCORES",
      );
      expect(Number(second) - Number(first)).toBeGreaterThanOrEqual(600_000 - 50);
      // The first is then released into its queue.
      const consumer = new Consumer<string>(conn, { queue: a });
      const received: string[] = [];
      consumer.registerCallback(async (data, message) => {
        received.push(data);
        await message.ack();
      });
      await within(consumer.wait({ limit: 8 }), 10_000, "the eight messages of queue a");
      expect(received).toEqual(["a1", "a2", "a3", "a4", "a5", "a6", "a8", "a7"]);
    } finally {
      redis.disconnect();
    }
  });

  it("fails every message of a batch that Redis refuses as a whole", async () => {
    const conn = new Connection(redisUrl(prefix));
    open.push(conn);
    const broken = unique("broken");
    await conn.declareQueue({ name: broken });
    const redis = rawRedis();
    try {
      await redis.del(`{${prefix}:${broken}}:stream`);
      await redis.set(`{${prefix}:${broken}}:stream`, "not a stream");
      const publisher = new Publisher(conn, { routingKey: broken });
      await publisher.send("declares").catch(() => undefined);
      // One tick, one call: every message gets the same refusal (the script's reply is that one value).
      const outcomes = await Promise.allSettled([
        publisher.send("one"),
        publisher.send("two"),
        publisher.send("three"),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected"]);
      for (const outcome of outcomes) {
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(PublishNackedError);
        expect(String(reason.message)).toMatch(/WRONGTYPE/);
      }
    } finally {
      redis.disconnect();
    }
  });
});
