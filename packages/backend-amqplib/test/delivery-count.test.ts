import { Connection } from "@carrot/core";
import type { BackendEvents, Delivery } from "@carrot/core/backend";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL, deferred, eventually, rawConnection, unique, within } from "./support/broker.js";
import { FaultProxy } from "./support/fault-proxy.js";

const broker = new URL(AMQP_URL);

/** The deliveries of one subscription, in order. */
async function subscribe(connection: Connection, queue: string) {
  const deliveries: Delivery[] = [];
  await connection.backend.consume(
    queue,
    { prefetch: 1, noAck: false, exclusive: false, consumerTag: unique("tag") },
    (delivery) => deliveries.push(delivery),
  );
  return {
    /** The `n`th delivery (from 1), once it has come. */
    nth: (n: number) =>
      eventually(`delivery ${n}`, () => deliveries[n - 1], 15_000) as Promise<Delivery>,
  };
}

describe("deliveryCount", () => {
  let raw: ChannelModel;
  let channel: ConfirmChannel;
  const queues: string[] = [];
  const open: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    raw = await rawConnection();
    channel = await raw.createConfirmChannel();
  });
  afterAll(async () => {
    for (const thing of open.reverse()) await thing.close();
    for (const queue of queues) await channel.deleteQueue(queue);
    await raw.close();
  });

  async function connected(url = AMQP_URL): Promise<Connection> {
    const connection = new Connection({ url, reconnect: { initialDelay: 10, maxDelay: 100 } });
    open.push(connection);
    await connection.connect();
    return connection;
  }

  /** A queue declared through `connection`, holding one message with a forged `x-delivery-count`. */
  async function queueWithForgedCount(connection: Connection, quorum: boolean): Promise<string> {
    const queue = unique(quorum ? "count-quorum" : "count-classic");
    queues.push(queue);
    await connection.declareQueue({
      name: queue,
      arguments: quorum ? { queueType: "quorum" } : {},
    });
    // Another client's message, or a copy of one that came from a quorum queue.
    channel.sendToQueue(queue, Buffer.from("m"), { headers: { "x-delivery-count": 7 } });
    await channel.waitForConfirms();
    return queue;
  }

  it("counts a quorum queue's deliveries across requeues and a killed connection", async () => {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    open.push(proxy);
    const connection = await connected(proxy.url);
    const queue = await queueWithForgedCount(connection, true);
    const { nth } = await subscribe(connection, queue);

    const first = await nth(1);
    // The publisher's header is not the broker's: on a first delivery RabbitMQ leaves it as sent.
    expect(first.message.headers["x-delivery-count"]).toBe(7);
    expect(first.info).toMatchObject({ redelivered: false, deliveryCount: 1 });
    await first.reject(true);
    const second = await nth(2);
    expect(second.info).toMatchObject({ redelivered: true, deliveryCount: 2 });
    await second.reject(true);
    const third = await nth(3);
    expect(third.info.deliveryCount).toBe(3);

    // Held, unsettled, when the connection dies: RabbitMQ counts that delivery too.
    const { promise: reconnected, resolve } = deferred<BackendEvents["reconnect"]>();
    connection.on("reconnect", resolve);
    proxy.cutAll();
    await within(reconnected, 15_000, "the reconnect");
    const fourth = await nth(4);
    expect(fourth.info).toMatchObject({ redelivered: true, deliveryCount: 4 });
    await fourth.ack();
  });

  it("counts basic.get deliveries of a quorum queue the same way", async () => {
    const connection = await connected();
    const queue = await queueWithForgedCount(connection, true);
    const first = (await connection.backend.get(queue, { noAck: false }))!;
    // basic.get writes x-delivery-count 0 on a first delivery.
    expect(first.message.headers["x-delivery-count"]).toBe(0);
    expect(first.info.deliveryCount).toBe(1);
    await first.reject(true);
    const second = (await connection.backend.get(queue, { noAck: false }))!;
    expect(second.info).toMatchObject({ redelivered: true, deliveryCount: 2 });
    await second.ack();
  });

  it("has none on a classic queue, whatever x-delivery-count the message carries", async () => {
    const connection = await connected();
    const queue = await queueWithForgedCount(connection, false);
    const { nth } = await subscribe(connection, queue);
    const first = await nth(1);
    expect(first.message.headers["x-delivery-count"]).toBe(7);
    expect(first.info.deliveryCount).toBeUndefined();
    await first.reject(true);
    const second = await nth(2);
    expect(second.info.redelivered).toBe(true);
    expect(second.info.deliveryCount).toBeUndefined();
    await second.ack();
  });

  it("has none on a quorum queue this connection did not declare: it cannot tell the queue's type", async () => {
    const declaring = await connected();
    const queue = await queueWithForgedCount(declaring, true);
    const other = await connected();
    const { nth } = await subscribe(other, queue);
    const first = await nth(1);
    await first.reject(true);
    const second = await nth(2);
    expect(second.info.redelivered).toBe(true);
    expect(second.message.headers["x-delivery-count"]).toBe(1);
    expect(second.info.deliveryCount).toBeUndefined();
    await second.ack();
  });
});
