import {
  Connection,
  ConnectionLostError,
  MessageStateError,
  NotFoundError,
  Publisher,
  ResourceLockedError,
  UnroutableError,
} from "@carrot/core";
import type { Backend, ConsumeOptions, Delivery } from "@carrot/core/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL, eventually, rawConnection, unique } from "./support/broker.js";
import { FaultProxy } from "./support/fault-proxy.js";

const broker = new URL(AMQP_URL);

function options(overrides: Partial<ConsumeOptions> = {}): ConsumeOptions {
  return { prefetch: 0, noAck: false, exclusive: false, consumerTag: unique("tag"), ...overrides };
}

function text(delivery: Delivery): string {
  return JSON.parse(Buffer.from(delivery.message.body).toString());
}

describe("consuming", () => {
  const connection = new Connection(AMQP_URL);
  let backend: Backend;
  const queues: string[] = [];
  beforeAll(async () => {
    await connection.connect();
    backend = connection.backend;
  });
  afterAll(async () => {
    for (const queue of queues) await connection.deleteQueue(queue).catch(() => {});
    await connection.close();
  });

  async function queueWith(count: number, args = {}): Promise<string> {
    const queue = unique("consume");
    queues.push(queue);
    await connection.declareQueue({ name: queue, durable: false, arguments: args });
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    await Promise.all(Array.from({ length: count }, (_, i) => publisher.send(`m${i}`)));
    return queue;
  }

  /** What is left in the queue, taken out. */
  async function drain(queue: string): Promise<string[]> {
    const left: string[] = [];
    for (
      let d = await backend.get(queue, { noAck: true });
      d;
      d = await backend.get(queue, { noAck: true })
    )
      left.push(text(d));
    return left;
  }

  it("holds no more than prefetch unacked deliveries in flight", async () => {
    const queue = await queueWith(10);
    const held: Delivery[] = [];
    const subscription = await backend.consume(queue, options({ prefetch: 3 }), (d) =>
      held.push(d),
    );
    await eventually("3 deliveries", () => (held.length === 3 ? true : undefined));
    await held[0]!.ack();
    await eventually("a 4th delivery", () => (held.length === 4 ? true : undefined));
    // With 3 unacked, the broker sends nothing more: a fetch sees what is left.
    await subscription.cancel();
    for (const d of held.slice(1)) await d.reject(true);
    expect(await connection.purgeQueue(queue)).toBe(9);
  });

  it("an ack asked for just before close is written before it: the message does not come back", async () => {
    const queue = await queueWith(2);
    const other = new Connection(AMQP_URL);
    await other.connect();
    const acked = await other.backend.get(queue, { noAck: false });
    const left = await other.backend.get(queue, { noAck: false });
    expect([text(acked!), text(left!)]).toEqual(["m0", "m1"]);
    // Not awaited: the close that follows at once must still send it first.
    const ack = acked!.ack();
    await other.close();
    // RabbitMQ processed it before the close: the ack resolves.
    await expect(ack).resolves.toBeUndefined();
    expect(await drain(queue)).toEqual(["m1"]);
  });

  it("acks of one turn settle exactly theirs: around an unacked oldest one, and across a requeue", async () => {
    const queue = await queueWith(6);
    const other = new Connection(AMQP_URL);
    await other.connect();
    const seen: Delivery[] = [];
    await other.backend.consume(queue, options(), (d) => seen.push(d));
    await eventually("6 deliveries", () => (seen.length === 6 ? true : undefined));
    // m0 stays unacked, so no run starts at the oldest; m3 is requeued between the acks.
    await Promise.all([
      seen[1]!.ack(),
      seen[2]!.ack(),
      seen[3]!.reject(true),
      seen[4]!.ack(),
      seen[5]!.ack(),
    ]);
    await eventually("m3 again", () => (seen.length === 7 ? true : undefined));
    expect([text(seen[6]!), seen[6]!.info.redelivered]).toEqual(["m3", true]);
    // Now the oldest is acked alone: it must not carry the redelivered m3 with it.
    await seen[0]!.ack();
    await other.close();
    expect(await drain(queue)).toEqual(["m3"]);
    expect(seen).toHaveLength(7);
  });

  it("reject dead-letters, requeue redelivers with redelivered set", async () => {
    const dlq = unique("dlq");
    queues.push(dlq);
    await connection.declareQueue({ name: dlq, durable: false });
    const queue = await queueWith(2, { deadLetterExchange: "", deadLetterRoutingKey: dlq });
    const seen: Delivery[] = [];
    const subscription = await backend.consume(queue, options(), (d) => seen.push(d));
    await eventually("2 deliveries", () => (seen.length === 2 ? true : undefined));
    await seen[0]!.reject(false);
    await seen[1]!.reject(true);
    await eventually("the requeued one again", () => (seen.length === 3 ? true : undefined));
    expect(text(seen[2]!)).toBe("m1");
    expect(seen[2]!.info.redelivered).toBe(true);
    await seen[2]!.ack();
    await subscription.cancel();
    const dead = await backend.get(dlq, { noAck: false });
    expect(dead && text(dead)).toBe("m0");
    expect(dead?.message.headers["x-first-death-reason"]).toBe("rejected");
    await dead?.ack();
  });

  it("noAck consumers get each message once and cannot settle", async () => {
    const queue = await queueWith(3);
    const seen: Delivery[] = [];
    const subscription = await backend.consume(queue, options({ noAck: true }), (d) =>
      seen.push(d),
    );
    await eventually("3 deliveries", () => (seen.length === 3 ? true : undefined));
    await expect(seen[0]!.ack()).rejects.toThrow(MessageStateError);
    await subscription.cancel();
    expect(await connection.purgeQueue(queue)).toBe(0);
  });

  it("an exclusive consumer keeps others out", async () => {
    const queue = await queueWith(0);
    const first = await backend.consume(queue, options({ exclusive: true }), () => {});
    await expect(backend.consume(queue, options(), () => {})).rejects.toThrow(ResourceLockedError);
    await first.cancel();
    const second = await backend.consume(queue, options(), () => {});
    await second.cancel();
  });

  it("get returns null on an empty queue and a settleable delivery otherwise; purge counts", async () => {
    const queue = await queueWith(3);
    const one = await backend.get(queue, { noAck: false });
    expect(one && text(one)).toBe("m0");
    expect(one?.info.queue).toBe(queue);
    await one?.ack();
    await expect(one!.ack()).rejects.toThrow(MessageStateError);
    expect(await connection.purgeQueue(queue)).toBe(2);
    expect(await backend.get(queue, { noAck: false })).toBeNull();
  });

  it("deliveries handed out before cancel stay settleable", async () => {
    const queue = await queueWith(2);
    const seen: Delivery[] = [];
    const subscription = await backend.consume(queue, options({ prefetch: 2 }), (d) =>
      seen.push(d),
    );
    await eventually("2 deliveries", () => (seen.length === 2 ? true : undefined));
    await subscription.cancel();
    await seen[0]!.ack();
    await seen[1]!.ack();
    expect(await connection.purgeQueue(queue)).toBe(0);
  });

  it("settling a delivery whose connection died fails with ConnectionLostError, and RabbitMQ redelivers it", async () => {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    const viaProxy = new Connection({
      url: proxy.url,
      reconnect: { initialDelay: 10, maxDelay: 50 },
    });
    await viaProxy.connect();
    const queue = await queueWith(1);
    const seen: Delivery[] = [];
    const subscription = await viaProxy.backend.consume(queue, options(), (d) => seen.push(d));
    await eventually("the delivery", () => (seen.length === 1 ? true : undefined));
    proxy.cutAll();
    // The consumer resumes by itself and gets the message again.
    await eventually("the redelivery", () => (seen.length === 2 ? true : undefined));
    await expect(seen[0]!.ack()).rejects.toThrow(ConnectionLostError);
    expect(seen[1]!.info.redelivered).toBe(true);
    expect(text(seen[1]!)).toBe("m0");
    await seen[1]!.ack();
    await subscription.cancel();
    await viaProxy.close();
    await proxy.close();
  });

  it("a queue deleted by another client: declared here, it comes back and consuming resumes", async () => {
    const queue = await queueWith(0);
    const seen: Delivery[] = [];
    const subscription = await backend.consume(queue, options(), (d) => {
      seen.push(d);
      void d.ack();
    });
    const raw = await rawConnection();
    await (await raw.createChannel()).deleteQueue(queue);
    await raw.close();
    // The broker cancelled the consumer; it redeclares the queue and consumes again.
    const publisher = new Publisher(connection, {
      exchange: "",
      routingKey: queue,
      mandatory: true,
    });
    // Mandatory sends are unroutable until the queue is back; the first routable one counts.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await publisher.send("back");
        break;
      } catch (error) {
        if (!(error instanceof UnroutableError) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await eventually("the delivery on the recreated queue", () =>
      seen.length === 1 ? true : undefined,
    );
    await subscription.cancel();
  });

  it("a queue deleted by another client and not declared here: the consumer ends with NotFoundError", async () => {
    const queue = unique("foreign");
    const raw = await rawConnection();
    const channel = await raw.createChannel();
    await channel.assertQueue(queue, { durable: false });
    const reasons: Error[] = [];
    const subscription = await backend.consume(
      queue,
      options(),
      () => {},
      (reason) => reasons.push(reason),
    );
    await channel.deleteQueue(queue);
    await raw.close();
    const [reason] = await eventually("the broker cancel", () =>
      reasons.length > 0 ? reasons : undefined,
    );
    expect(reason).toBeInstanceOf(NotFoundError);
    await subscription.cancel();
  });
});
