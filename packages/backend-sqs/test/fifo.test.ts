import { GetQueueUrlCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Consumer, InvalidOptionsError, Publisher, UnsupportedFeatureError } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { connectSqs, deleteQueues, rawClient, uniquePrefix, waitFor } from "./sqs-test-env.js";

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
      for (const group of ["a", "b"]) await publisher.send({ group, n }, { groupId: group });
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

  it("deduplicates by deduplicationId, by messageId, or by content where the queue says so", async () => {
    const { conn } = await connectSqs(prefix);
    const byId = new Consumer(conn, { queue: "dedup.fifo" });
    await byId.declare();
    const publisher = new Publisher(conn, { routingKey: "dedup.fifo" });
    await publisher.send("once", { messageId: "m-1" });
    await publisher.send("once again", { messageId: "m-1" });
    await publisher.send("option", { deduplicationId: "d-1" });
    await publisher.send("option again", { deduplicationId: "d-1" });
    // Over SQS's 128 printable ASCII characters: sent hashed, still one id.
    const long = "é".repeat(200);
    await publisher.send("long id", { deduplicationId: long });
    await publisher.send("long id again", { deduplicationId: long });
    await publisher.send("distinct");
    await publisher.send("distinct");
    const got: unknown[] = [];
    for (let m = await byId.fetch(); m; m = await byId.fetch()) {
      got.push(m.payload);
      await m.ack();
    }
    expect(got).toEqual(["once", "option", "long id", "distinct", "distinct"]);

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

  it("keeps a dead-lettered message in its group", async () => {
    const { conn } = await connectSqs(prefix);
    const dead = new Consumer(conn, { queue: "dead.fifo", exchange: "fifo-dlx", routingKey: "k" });
    await dead.declare();
    const work = new Consumer(conn, {
      queue: "work.fifo",
      queueArguments: { deadLetterExchange: "fifo-dlx", deadLetterRoutingKey: "k" },
    });
    await work.declare();
    await new Publisher(conn, { routingKey: "work.fifo" }).send("poison", { groupId: "g-7" });
    await (await work.fetch())?.reject();
    const client = rawClient();
    try {
      const { QueueUrl } = await client.send(
        new GetQueueUrlCommand({ QueueName: `${prefix}dead.fifo` }),
      );
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({ QueueUrl, MessageSystemAttributeNames: ["MessageGroupId"] }),
      );
      expect(Messages.map((m) => m.Attributes?.MessageGroupId)).toEqual(["g-7"]);
    } finally {
      client.destroy();
    }
    await conn.close();
  });
});

describe("message ids on standard queues", () => {
  it("takes a groupId (a fair-queue tenant) and refuses a deduplicationId before sending", async () => {
    const { conn } = await connectSqs(prefix);
    const consumer = new Consumer(conn, { queue: "standard" });
    await consumer.declare();
    const publisher = new Publisher(conn, { routingKey: "standard" });
    const refused = publisher.send("deduplicated", { deduplicationId: "d-1" });
    await expect(refused).rejects.toBeInstanceOf(UnsupportedFeatureError);
    await expect(refused).rejects.toThrow(
      /cannot deduplicate on standard queue 'standard' \(deduplicationId 'd-1'\)/,
    );
    await publisher.send("grouped", { groupId: "tenant-1" });
    const got = await consumer.fetch();
    expect(got?.payload).toBe("grouped");
    await got?.ack();
    expect(await consumer.fetch()).toBeNull();
    await conn.close();
  });

  it("refuses a deduplicationId routed to a standard and a FIFO queue: sent to neither", async () => {
    const { conn } = await connectSqs(prefix);
    const queues = ["mixed.fifo", "mixed-standard"].map(
      (queue) => new Consumer(conn, { queue, exchange: "mixed-x", exchangeType: "fanout" }),
    );
    for (const consumer of queues) await consumer.declare();
    const publisher = new Publisher(conn, { exchange: "mixed-x", exchangeType: "fanout" });
    await expect(publisher.send("both", { deduplicationId: "d-1" })).rejects.toBeInstanceOf(
      UnsupportedFeatureError,
    );
    for (const consumer of queues) expect(await consumer.fetch()).toBeNull();
    await conn.close();
  });

  it("refuses empty ids with InvalidOptionsError", async () => {
    const { conn } = await connectSqs(prefix);
    const publisher = new Publisher(conn, { routingKey: "anywhere.fifo" });
    for (const options of [{ groupId: "" }, { deduplicationId: "" }]) {
      await expect(publisher.send("x", options)).rejects.toBeInstanceOf(InvalidOptionsError);
    }
    await conn.close();
  });
});
