import { randomUUID } from "node:crypto";
import { Connection } from "@carrot/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { connectTo, seedConnection } from "./connection.js";
import { feedConsumer } from "./consumer-callback.js";
import { main } from "./feed-import.js";
import { fetchOneFeed } from "./fetch.js";
import { multiBroker } from "./multi-broker.js";
import { sendFeed } from "./publisher-send.js";
import { importWithSubclasses } from "./subclassing.js";

// Every example of the seed README, run against memory:// so the README cannot drift from the code.
const FEED = "http://cnn.com/rss/edition.rss";
const url = () => `memory://examples-${randomUUID()}`;
const printed = vi.spyOn(console, "log").mockImplementation(() => undefined);
afterEach(() => printed.mockClear());

describe("seed README examples", () => {
  it("the main job: consumer and publisher print the feed", async () => {
    await main(url());
    expect(printed.mock.calls).toEqual([[`Got feed import message for: ${FEED}`]]);
  });

  it("creating a connection: the seed's fields and a URL", async () => {
    expect(String(seedConnection())).toBe("Connection(amqp://test@localhost:5672/test)");
    const connection = await connectTo(url());
    expect(connection.connected).toBe(true);
    await connection.close();
  });

  it("a consumer with a callback and wait(), fed by a publisher's send()", async () => {
    await using connection = new Connection(url());
    const consumer = feedConsumer(connection);
    await consumer.declare();
    const waiting = consumer.wait({ limit: 1 });
    await sendFeed(connection, FEED);
    await waiting;
    expect(printed.mock.calls).toEqual([[`Got feed import message for: ${FEED}`]]);
  });

  it("fetch() without a callback: a message, then null", async () => {
    await using connection = new Connection(url());
    expect(await fetchOneFeed(connection)).toBeNull(); // declares the queue; nothing there yet
    await sendFeed(connection, FEED);
    expect(await fetchOneFeed(connection)).toBe(FEED);
    expect(await fetchOneFeed(connection)).toBeNull();
  });

  it("subclassed FeedPublisher and FeedConsumer", async () => {
    await using connection = new Connection(url());
    await importWithSubclasses(connection, FEED);
    expect(printed.mock.calls).toEqual([[`Got feed import message for: ${FEED}`]]);
  });
});

describe("several brokers", () => {
  /** A broker's URL from the global setup, which finds or starts it. */
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: the examples' global setup provides it`);
    return value;
  };

  it("orders from RabbitMQ forwarded to Redis, SQS and memory, consumed by one ConsumerSet", async () => {
    const name = `orders-${randomUUID().slice(0, 8)}`;
    const urls = {
      rabbitmq: env("CARROT_AMQP_URL"),
      redis: env("CARROT_REDIS_URL"),
      sqs: `sqs://?${new URLSearchParams({ endpoint: env("CARROT_SQS_ENDPOINT"), region: "us-east-1" })}`,
      memory: url(),
    };
    try {
      await multiBroker(urls, [1, 2], name);
      const lines = printed.mock.calls.map(([line]) => line as string);
      const received = lines.map((line) => /^(.+): order (\d), trace (\w+)$/.exec(line)!.slice(1));
      expect(received.map(([queue, order]) => `${queue}: order ${order}`).sort()).toEqual(
        ["memory", "redis", "sqs"].flatMap((b) => [1, 2].map((n) => `${name}-${b}: order ${n}`)),
      );
      // Each order is one trace on all three brokers, and each order its own.
      const traces = ["1", "2"].map(
        (order) => new Set(received.filter(([, o]) => o === order).map(([, , id]) => id)),
      );
      expect(traces.map((ids) => ids.size)).toEqual([1, 1]);
      const [first, second] = traces.map((ids) => [...ids][0]);
      expect(first).toMatch(/^[0-9a-f]{8}$/);
      expect(second).toMatch(/^[0-9a-f]{8}$/);
      expect(first).not.toBe(second);
    } finally {
      // The example's queues and exchange, on the brokers that outlive the test.
      for (const [broker, queue] of [
        ["rabbitmq", name],
        ["redis", `${name}-redis`],
        ["sqs", `${name}-sqs`],
      ] as const) {
        await using admin = new Connection(urls[broker]);
        await admin.deleteQueue(queue);
        await admin.deleteExchange(name);
      }
    }
  });
});
