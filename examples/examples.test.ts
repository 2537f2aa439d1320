import { randomUUID } from "node:crypto";
import { Connection } from "@carrot/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { connectTo, seedConnection } from "./connection.js";
import { feedConsumer } from "./consumer-callback.js";
import { main } from "./feed-import.js";
import { fetchOneFeed } from "./fetch.js";
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
