import { Connection, Consumer, type Message, Publisher } from "@carrot/core";
import type { ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL, rawConnection, unique, within } from "./support/broker.js";

/** Messages on the wire are plain AMQP: raw amqplib stands in for any other AMQP client. */
describe("interoperability with other AMQP clients", () => {
  const connection = new Connection(AMQP_URL);
  let raw: ChannelModel;
  const queues: string[] = [];
  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterAll(async () => {
    for (const queue of queues) await connection.deleteQueue(queue).catch(() => {});
    await connection.close();
    await raw.close();
  });

  it("another client reads what carrot sends, with every property in its AMQP place", async () => {
    const queue = unique("to-raw");
    queues.push(queue);
    await connection.declareQueue({ name: queue });
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    const timestamp = new Date("2026-01-02T03:04:05Z");
    await publisher.send(
      { hello: "wörld" },
      {
        headers: {
          "x-trace": "abc",
          count: 3,
          ratio: 0.5,
          flag: true,
          nested: { a: [1, "b"] },
          when: timestamp,
        },
        messageId: "m-1",
        correlationId: "c-1",
        replyTo: "replies",
        priority: 4,
        expiration: 60_000,
        timestamp,
        type: "greeting",
        appId: "carrot-test",
      },
    );
    const channel = await raw.createChannel();
    const message = await channel.get(queue, { noAck: true });
    await channel.close();
    if (!message) throw new Error("nothing arrived");
    expect(JSON.parse(message.content.toString("utf8"))).toEqual({ hello: "wörld" });
    const p = message.properties;
    expect(p.contentType).toBe("application/json");
    expect(p.contentEncoding).toBe("utf-8");
    expect(p.messageId).toBe("m-1");
    expect(p.correlationId).toBe("c-1");
    expect(p.replyTo).toBe("replies");
    expect(p.priority).toBe(4);
    expect(p.expiration).toBe("60000");
    expect(p.timestamp).toBe(timestamp.getTime() / 1000);
    expect(p.type).toBe("greeting");
    expect(p.appId).toBe("carrot-test");
    expect(p.deliveryMode).toBe(2);
    expect(p.headers).toMatchObject({
      "x-trace": "abc",
      count: 3,
      ratio: 0.5,
      flag: true,
      nested: { a: [1, "b"] },
    });
    expect(p.headers?.when).toEqual({ "!": "timestamp", value: timestamp.getTime() / 1000 });
  });

  it("carrot reads what another client sends, with its properties", async () => {
    const queue = unique("from-raw");
    queues.push(queue);
    await connection.declareQueue({ name: queue });
    const channel = await raw.createConfirmChannel();
    const sent = new Promise<void>((resolve, reject) =>
      channel.publish(
        "",
        queue,
        Buffer.from(JSON.stringify({ n: 1 })),
        {
          contentType: "application/json",
          contentEncoding: "utf-8",
          headers: {
            source: "raw",
            bytes: Buffer.from([0, 255]),
            when: { "!": "timestamp", value: 1_700_000_000 },
          },
          messageId: "raw-1",
          correlationId: "corr",
          replyTo: "back",
          priority: 2,
          expiration: "90000",
          timestamp: 1_700_000_000,
          type: "t",
          appId: "raw-app",
          persistent: true,
        },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    await sent;
    await channel.close();
    const consumer = new Consumer<{ n: number }>(connection, { queue });
    const got: Message<{ n: number }>[] = [];
    consumer.registerCallback(async (_data, message) => {
      got.push(message);
      await message.ack();
    });
    await within(consumer.wait({ limit: 1 }), 10_000, "the raw message");
    await consumer.close();
    const message = got[0]!;
    expect(message.payload).toEqual({ n: 1 });
    expect(message.contentType).toBe("application/json");
    expect(message.headers.source).toBe("raw");
    expect(message.headers.bytes).toEqual(new Uint8Array([0, 255]));
    expect(message.headers.when).toEqual(new Date(1_700_000_000_000));
    expect(message.properties).toMatchObject({
      messageId: "raw-1",
      correlationId: "corr",
      replyTo: "back",
      priority: 2,
      expiration: 90_000,
      timestamp: new Date(1_700_000_000_000),
      type: "t",
      appId: "raw-app",
      deliveryMode: 2,
    });
    expect(message.deliveryInfo).toMatchObject({
      exchange: "",
      routingKey: queue,
      redelivered: false,
    });
  });
});
