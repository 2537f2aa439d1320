import { Consumer, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { DEDUPLICATION_ID_HEADER, GROUP_ID_HEADER } from "../src/index.js";
import { connectSqs, deleteQueues, uniquePrefix, waitFor } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

describe("FIFO queues", () => {
  it("keeps the order within each message group", async () => {
    const { conn } = await connectSqs(prefix, { waitTimeSeconds: 1 });
    const consumer = new Consumer<{ group: string; n: number }>(conn, {
      queue: "orders.fifo",
      exchange: "fifo-x",
      routingKey: "k",
      prefetchCount: 1,
    });
    await consumer.declare();
    const publisher = new Publisher(conn, { exchange: "fifo-x", routingKey: "k" });
    for (let n = 0; n < 10; n++) {
      for (const group of ["a", "b"])
        await publisher.send({ group, n }, { headers: { [GROUP_ID_HEADER]: group } });
    }
    const seen: Record<string, number[]> = { a: [], b: [] };
    const all = waitFor<void>("20 messages");
    let count = 0;
    consumer.registerCallback(async (data, message) => {
      seen[data.group]?.push(data.n);
      await message.ack();
      if (++count === 20) all.resolve();
    });
    const waiting = consumer.wait({ limit: 20 });
    await all.promise;
    await waiting;
    const inOrder = Array.from({ length: 10 }, (_, i) => i);
    expect(seen).toEqual({ a: inOrder, b: inOrder });
    await conn.close();
  });

  it("deduplicates by messageId, by the deduplication header, or by content where the queue says so", async () => {
    const { conn } = await connectSqs(prefix);
    const byId = new Consumer(conn, { queue: "dedup.fifo" });
    await byId.declare();
    const publisher = new Publisher(conn, { routingKey: "dedup.fifo" });
    await publisher.send("once", { messageId: "m-1" });
    await publisher.send("once again", { messageId: "m-1" });
    await publisher.send("header", { headers: { [DEDUPLICATION_ID_HEADER]: "d-1" } });
    await publisher.send("header again", { headers: { [DEDUPLICATION_ID_HEADER]: "d-1" } });
    await publisher.send("distinct");
    await publisher.send("distinct");
    const got: unknown[] = [];
    for (let m = await byId.fetch(); m; m = await byId.fetch()) {
      got.push(m.payload);
      await m.ack();
    }
    expect(got).toEqual(["once", "header", "distinct", "distinct"]);

    const byContent = new Consumer(conn, {
      queue: "content.fifo",
      queueArguments: { "x-sqs-ContentBasedDeduplication": "true" },
    });
    await byContent.declare();
    const contentPublisher = new Publisher(conn, { routingKey: "content.fifo" });
    await contentPublisher.send("same");
    await contentPublisher.send("same");
    await contentPublisher.send("other");
    const contents: unknown[] = [];
    for (let m = await byContent.fetch(); m; m = await byContent.fetch()) {
      contents.push(m.payload);
      await m.ack();
    }
    expect(contents).toEqual(["same", "other"]);
    await conn.close();
  });
});
