import { Connection, Consumer, type Message, NotFoundError } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { KeyLayout } from "../src/key-layout.js";
import {
  deferred,
  rawRedis,
  redisUrl,
  removeKeys,
  unique,
  uniquePrefix,
  within,
} from "./support/redis.js";

// Delays are the feature, so these cases read the clock: never early (from
// before the send was called), and late by at most LATE_MS (from after it
// resolved). The release sweep runs at the due time on the publishing
// connection, and at most a second apart on every other one; LATE_MS is
// that second plus room for a loaded 2-core machine.
const LATE_MS = 1_500;

/** Sends `text` through the backend itself, `delay` ms delayed, and reads the clock around it. */
async function sendDelayed(
  conn: Connection,
  target: { exchange?: string; routingKey: string },
  text: string,
  delay: number,
  properties: { expiration?: number } = {},
): Promise<{ start: number; end: number }> {
  const backend = await conn.ready();
  const start = Date.now();
  await backend.publish({
    exchange: target.exchange ?? "",
    routingKey: target.routingKey,
    mandatory: false,
    delay,
    message: {
      body: Buffer.from(text),
      contentType: "text/plain",
      contentEncoding: "utf-8",
      headers: {},
      properties,
    },
  });
  return { start, end: Date.now() };
}

/** A consumer that acks and notes when each payload arrived; `arrived(n)` waits for n. */
function timedConsumer(conn: Connection, queue: string) {
  const consumer = new Consumer<string>(conn, { queue });
  const arrivals: { payload: string; at: number; message: Message<string> }[] = [];
  const waiters: { count: number; done: () => void }[] = [];
  consumer.registerCallback(async (payload, message) => {
    arrivals.push({ payload, at: Date.now(), message });
    await message.ack();
    for (const waiter of waiters) if (arrivals.length >= waiter.count) waiter.done();
  });
  const arrived = (count: number, ms: number) => {
    const wait = deferred();
    if (arrivals.length >= count) wait.resolve();
    else waiters.push({ count, done: () => wait.resolve() });
    return within(wait.promise, ms, `${count} deliveries (got ${arrivals.length})`);
  };
  return { consumer, arrivals, arrived };
}

describe("delayed delivery (a due set released by the sweeper)", () => {
  const prefix = uniquePrefix();
  const keys = new KeyLayout(prefix);
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

  it("delivers by due time, never early: a short delay is not held behind a longer one sent first", async () => {
    const conn = connect();
    const queue = unique("q");
    await conn.declareQueue({ name: queue });
    const { consumer, arrivals, arrived } = timedConsumer(conn, queue);
    const done = consumer.wait();
    const sends: [string, number][] = [
      ["slow", 1200],
      ["fast", 300],
      ["middle", 700],
      ["now", 0],
    ];
    const sent = new Map<string, { start: number; end: number }>();
    for (const [text, delay] of sends)
      sent.set(text, await sendDelayed(conn, { routingKey: queue }, text, delay));
    await arrived(4, 10_000);
    expect(arrivals.map((a) => a.payload)).toEqual(["now", "fast", "middle", "slow"]);
    for (const [text, delay] of sends) {
      const { at, message } = arrivals.find((a) => a.payload === text)!;
      const { start, end } = sent.get(text)!;
      expect(at - start, `'${text}' is never early`).toBeGreaterThanOrEqual(delay);
      expect(at - end, `'${text}' is late by at most ${LATE_MS} ms`).toBeLessThanOrEqual(
        delay + LATE_MS,
      );
      expect(message.deliveryInfo).toMatchObject({ redelivered: false, deliveryCount: 1 });
    }
    await consumer.cancel();
    await done;
    const redis = rawRedis();
    try {
      // Nothing left behind: released entries leave the set and the hash.
      expect(await redis.zcard(keys.delayed())).toBe(0);
      expect(await redis.hlen(keys.delayedMessages())).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it("keeps the send order of messages due at the same time", async () => {
    const conn = connect();
    const queue = unique("q");
    await conn.declareQueue({ name: queue });
    const { consumer, arrivals, arrived } = timedConsumer(conn, queue);
    const done = consumer.wait();
    const texts = Array.from({ length: 30 }, (_, i) => `m${i}`);
    // One tick: one script call, one reading of Redis's clock, one due time for all.
    await Promise.all(texts.map((text) => sendDelayed(conn, { routingKey: queue }, text, 200)));
    await arrived(texts.length, 10_000);
    expect(arrivals.map((a) => a.payload)).toEqual(texts);
    await consumer.cancel();
    await done;
  });

  it("routes when due, by the bindings then: a queue bound during the delay gets it", async () => {
    const conn = connect();
    const exchange = unique("x");
    await conn.declareExchange({ name: exchange, type: "direct" });
    const queue = unique("q");
    await conn.declareQueue({ name: queue });
    const sent = await sendDelayed(conn, { exchange, routingKey: "k" }, "late-bound", 400);
    await conn.bindQueue({ queue, exchange, routingKey: "k" });
    const { consumer, arrivals, arrived } = timedConsumer(conn, queue);
    const done = consumer.wait();
    await arrived(1, 10_000);
    expect(arrivals[0]!.at - sent.start).toBeGreaterThanOrEqual(400);
    expect(arrivals[0]!.message.deliveryInfo).toMatchObject({ exchange, routingKey: "k" });
    await consumer.cancel();
    await done;
  });

  it("survives the publishing client: held in Redis, released by another connection's sweep", async () => {
    const consumerConn = connect();
    const queue = unique("q");
    await consumerConn.declareQueue({ name: queue });
    const { consumer, arrivals, arrived } = timedConsumer(consumerConn, queue);
    const done = consumer.wait();
    const publisherConn = new Connection(redisUrl(prefix));
    const sent = await sendDelayed(publisherConn, { routingKey: queue }, "orphaned", 300);
    // The publisher goes before the message is due: its own sweep never runs.
    await publisherConn.close();
    const redis = rawRedis();
    try {
      expect(await redis.zcard(keys.delayed())).toBe(1);
    } finally {
      redis.disconnect();
    }
    // The consumer's connection learns of it at its next sweep: at most a second apart.
    await arrived(1, 10_000);
    const { at } = arrivals[0]!;
    expect(at - sent.start).toBeGreaterThanOrEqual(300);
    expect(at - sent.end).toBeLessThanOrEqual(300 + 1_000 + LATE_MS);
    await consumer.cancel();
    await done;
  });

  it("counts a message's TTL from when it is due, as if sent then", async () => {
    const conn = connect();
    const queue = unique("q");
    await conn.declareQueue({ name: queue });
    const { consumer, arrivals, arrived } = timedConsumer(conn, queue);
    const done = consumer.wait();
    // A TTL shorter than the delay: counted from the send, it would have expired.
    await sendDelayed(conn, { routingKey: queue }, "ttl", 500, { expiration: 5_000 });
    await sendDelayed(conn, { routingKey: queue }, "short-ttl", 600, { expiration: 300 });
    await arrived(2, 10_000);
    expect(arrivals.map((a) => a.payload)).toEqual(["ttl", "short-ttl"]);
    await consumer.cancel();
    await done;
  });

  it("refuses a delayed send to an exchange that does not exist", async () => {
    const conn = connect();
    await expect(
      sendDelayed(conn, { exchange: unique("none"), routingKey: "k" }, "x", 100),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it("drops, and reports, a delayed message whose exchange was deleted before it was due", async () => {
    const conn = connect();
    const exchange = unique("x");
    await conn.declareExchange({ name: exchange, type: "fanout" });
    const reported = deferred<Error>();
    conn.on("error", ({ error }) => reported.resolve(error));
    await sendDelayed(conn, { exchange, routingKey: "" }, "doomed", 200);
    await conn.deleteExchange(exchange);
    const error = await within(reported.promise, 10_000, "the report of the dropped message");
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toMatch(
      new RegExp(`delayed message for exchange '${exchange}' was dropped`),
    );
    const redis = rawRedis();
    try {
      expect(await redis.zcard(keys.delayed())).toBe(0);
      expect(await redis.hlen(keys.delayedMessages())).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
