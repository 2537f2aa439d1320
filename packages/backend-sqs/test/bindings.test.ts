import { GetQueueUrlCommand, ListQueueTagsCommand } from "@aws-sdk/client-sqs";
import { Consumer, DeclarationConflictError, NotFoundError, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { connectSqs, deleteQueues, rawClient, uniquePrefix } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

/** The stated consistency window: how long a binding made elsewhere may stay unseen. */
const WINDOW = 500;
const pastTheWindow = () => new Promise((resolve) => setTimeout(resolve, WINDOW));

async function bindTags(queue: string): Promise<string[]> {
  const client = rawClient();
  try {
    const { QueueUrl } = await client.send(
      new GetQueueUrlCommand({ QueueName: `${prefix}${queue}` }),
    );
    const { Tags = {} } = await client.send(new ListQueueTagsCommand({ QueueUrl }));
    return Object.keys(Tags).filter((key) => key.startsWith("carrot:bind:"));
  } finally {
    client.destroy();
  }
}

describe("bindings across processes (queue tags)", () => {
  it("a publisher routes to a binding made by another process once the window has passed, and stops after an unbind", async () => {
    const publishing = await connectSqs(prefix, { bindingRefresh: WINDOW });
    const consuming = await connectSqs(prefix, { bindingRefresh: WINDOW });
    const publisher = new Publisher(publishing.conn, { exchange: "orders", exchangeType: "topic" });
    await publisher.send("before any binding", { routingKey: "eu.created" }); // routed nowhere; the publisher has now read the table

    const consumer = new Consumer(consuming.conn, {
      queue: "eu-orders",
      exchange: "orders",
      exchangeType: "topic",
      routingKey: "eu.#",
    });
    await consumer.declare();
    expect(await bindTags("eu-orders")).toHaveLength(1);
    await pastTheWindow();
    await publisher.send("after the bind", { routingKey: "eu.created" });
    await publisher.send("not matching", { routingKey: "us.created" });
    const message = await consumer.fetch();
    expect(message?.payload).toBe("after the bind");
    expect(message?.deliveryInfo).toMatchObject({ exchange: "orders", routingKey: "eu.created" });
    await message?.ack();
    expect(await consumer.fetch()).toBeNull();

    await consuming.conn.unbindQueue({
      queue: "eu-orders",
      exchange: "orders",
      routingKey: "eu.#",
    });
    expect(await bindTags("eu-orders")).toEqual([]);
    await pastTheWindow();
    await publisher.send("after the unbind", { routingKey: "eu.created" });
    expect(await consumer.fetch()).toBeNull();
    await Promise.all([publishing.conn.close(), consuming.conn.close()]);
  });

  it("routes fanout, direct and headers exchanges bound in another process", async () => {
    const publishing = await connectSqs(prefix, { bindingRefresh: WINDOW });
    const consuming = await connectSqs(prefix, { bindingRefresh: WINDOW });
    const fanA = new Consumer(consuming.conn, {
      queue: "fan-a",
      exchange: "fan",
      exchangeType: "fanout",
    });
    const fanB = new Consumer(consuming.conn, {
      queue: "fan-b",
      exchange: "fan",
      exchangeType: "fanout",
    });
    const direct = new Consumer(consuming.conn, {
      queue: "direct-q",
      exchange: "direct",
      routingKey: "k",
    });
    const headers = new Consumer(consuming.conn, {
      queue: "headers-q",
      exchange: "hdr",
      exchangeType: "headers",
      bindingArguments: { "x-match": "any", a: 1, b: "two" },
    });
    await Promise.all([fanA, fanB, direct, headers].map((c) => c.declare()));
    await pastTheWindow();
    await new Publisher(publishing.conn, { exchange: "fan", exchangeType: "fanout" }).send(
      "to all",
      { routingKey: "whatever" },
    );
    const directPublisher = new Publisher(publishing.conn, { exchange: "direct" });
    await directPublisher.send("k", { routingKey: "k" });
    await directPublisher.send("other", { routingKey: "other" });
    const headersPublisher = new Publisher(publishing.conn, {
      exchange: "hdr",
      exchangeType: "headers",
    });
    await headersPublisher.send("match b", { headers: { b: "two" } });
    await headersPublisher.send("no match", { headers: { a: 2 } });
    expect((await fanA.fetch({ noAck: true }))?.payload).toBe("to all");
    expect((await fanB.fetch({ noAck: true }))?.payload).toBe("to all");
    expect((await direct.fetch({ noAck: true }))?.payload).toBe("k");
    expect(await direct.fetch()).toBeNull();
    expect((await headers.fetch({ noAck: true }))?.payload).toBe("match b");
    expect(await headers.fetch()).toBeNull();
    await Promise.all([publishing.conn.close(), consuming.conn.close()]);
  });

  it("refuses to redeclare a bound exchange with another type, in another process", async () => {
    const first = await connectSqs(prefix);
    await new Consumer(first.conn, {
      queue: "typed",
      exchange: "typed-x",
      exchangeType: "topic",
      routingKey: "#",
    }).declare();
    const second = await connectSqs(prefix);
    await expect(
      second.conn.declareExchange({ name: "typed-x", type: "direct" }),
    ).rejects.toBeInstanceOf(DeclarationConflictError);
    await expect(
      second.conn.declareExchange({ name: "typed-x", type: "topic" }),
    ).resolves.toBeUndefined();
    await Promise.all([first.conn.close(), second.conn.close()]);
  });

  it("refuses a queue redeclared with other arguments, in another process", async () => {
    const first = await connectSqs(prefix);
    await first.conn.declareQueue({ name: "args-q", arguments: { deadLetterExchange: "a" } });
    const second = await connectSqs(prefix);
    await expect(
      second.conn.declareQueue({ name: "args-q", arguments: { deadLetterExchange: "b" } }),
    ).rejects.toBeInstanceOf(DeclarationConflictError);
    await expect(
      second.conn.declareQueue({ name: "args-q", arguments: { deadLetterExchange: "a" } }),
    ).resolves.toBeUndefined();
    await Promise.all([first.conn.close(), second.conn.close()]);
  });

  it("deleteExchange removes its bindings from every queue; deleteQueue stops delivery", async () => {
    const { conn } = await connectSqs(prefix);
    const consumer = new Consumer(conn, {
      queue: "gone",
      exchange: "gone-x",
      exchangeType: "fanout",
    });
    await consumer.declare();
    expect(await bindTags("gone")).toHaveLength(1);
    await conn.deleteExchange("gone-x");
    expect(await bindTags("gone")).toEqual([]);
    await expect(
      new Publisher(conn, { exchange: "gone-x", exchangeType: "fanout" }).send(1),
    ).resolves.toBeUndefined(); // redeclared, unbound
    expect(await consumer.fetch()).toBeNull();
    await conn.deleteQueue("gone");
    await expect(conn.purgeQueue("gone")).rejects.toBeInstanceOf(NotFoundError);
    await conn.close();
  });
});
