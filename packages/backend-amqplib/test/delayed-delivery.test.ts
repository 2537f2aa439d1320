import { Connection, Publisher } from "@carrot/core";
import {
  type Backend,
  type BackendEvents,
  type Delivery,
  type Headers,
  newHeaders,
  type PublishRequest,
  type RawMessage,
} from "@carrot/core/backend";
import type { Channel, ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { delayLevel } from "../src/delay-levels.js";
import { delayName } from "../src/delay-topology.js";
import { AMQP_URL, deferred, eventually, rawConnection, unique, within } from "./support/broker.js";
import { FaultProxy } from "./support/fault-proxy.js";

/**
 * How late a delayed message may arrive past its level (which is at most
 * 12.5 % past its delay) on a loaded 2-core machine: RabbitMQ expires a
 * queue's head on a timer, dead-letters it, and the consumer gets it.
 */
const LATE_TOLERANCE_MS = 2_000;

interface Arrival {
  readonly delivery: Delivery;
  readonly text: string;
  readonly at: number;
}

/** The deliveries of a queue, as they arrive, with the time they came. */
class Inbox {
  readonly arrivals: Arrival[] = [];

  static async of(backend: Backend, queue: string): Promise<Inbox> {
    const inbox = new Inbox();
    await backend.consume(
      queue,
      { prefetch: 0, noAck: false, exclusive: false, consumerTag: unique("tag") },
      (delivery) =>
        inbox.arrivals.push({
          delivery,
          text: Buffer.from(delivery.message.body).toString(),
          at: Date.now(),
        }),
    );
    return inbox;
  }

  /** Resolves once `count` deliveries have arrived (failing after `ms`). */
  next(count: number, ms = 15_000): Promise<Arrival[]> {
    return eventually(
      `${count} deliveries`,
      () => (this.arrivals.length >= count ? this.arrivals.slice(0, count) : undefined),
      ms,
    );
  }
}

/** Resolves with the first value `check` resolves to that is not undefined, polling until `ms` have passed. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The delay exchange and queue that a delay of `delay` ms to `exchange` goes through. */
function pairOf(exchange: string, delay: number): string {
  return delayName(exchange, delayLevel(delay));
}

function message(text: string, headers: Headers = newHeaders()): RawMessage {
  return { body: Buffer.from(text), headers, properties: { deliveryMode: 2 } };
}

describe("delayed delivery", () => {
  const connection = new Connection(AMQP_URL);
  let backend: Backend;
  let raw: ChannelModel;
  let channel: Channel;
  /** Target exchanges and the delay levels used with them: their delay pairs are removed after. */
  const delayed = new Map<string, Set<number>>();
  const queues: string[] = [];
  const exchanges: string[] = [];

  beforeAll(async () => {
    await connection.connect();
    backend = connection.backend;
    raw = await rawConnection();
    channel = await raw.createChannel();
  });
  afterAll(async () => {
    for (const [exchange, levels] of delayed) {
      for (const level of levels) {
        await channel.deleteQueue(delayName(exchange, level));
        await channel.deleteExchange(delayName(exchange, level));
      }
    }
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    await raw.close();
    await connection.close();
  });

  /** A new exchange with a new queue bound to it by `bindingKey`, and their inbox. */
  async function route(type: "direct" | "topic" = "direct", bindingKey = "key") {
    const exchange = unique("delay-x");
    const queue = unique("delay-q");
    exchanges.push(exchange);
    queues.push(queue);
    delayed.set(exchange, new Set());
    await connection.declareExchange({ name: exchange, type, durable: false });
    await connection.declareQueue({ name: queue, durable: false });
    await connection.bindQueue({ queue, exchange, routingKey: bindingKey });
    return { exchange, queue, inbox: await Inbox.of(backend, queue) };
  }

  /** A delayed publish through the backend; the time before it, as the earliest it may arrive from. */
  async function publishDelayed(request: PublishRequest & { delay: number }): Promise<number> {
    delayed.get(request.exchange)?.add(delayLevel(request.delay));
    const sentAt = Date.now();
    await backend.publish(request);
    return sentAt;
  }

  it("delivers a short delay sent after a long one first, neither one early", async () => {
    const { exchange, inbox } = await route();
    const publisher = new Publisher<string>(connection, {
      exchange,
      durable: false,
      routingKey: "key",
    });
    const sends = [
      { text: "long", delay: 3_000 },
      { text: "short", delay: 300 },
    ].map(({ text, delay }) => {
      delayed.get(exchange)?.add(delayLevel(delay));
      return { text, delay, sentAt: Date.now(), sent: publisher.send(text, { delay }) };
    });
    await Promise.all(sends.map(({ sent }) => sent));
    const arrivals = await inbox.next(2);
    expect(arrivals.map(({ text }) => JSON.parse(text))).toEqual(["short", "long"]);
    for (const { text, delay, sentAt } of sends) {
      const arrival = arrivals.find((a) => JSON.parse(a.text) === text)!;
      expect(arrival.at - sentAt).toBeGreaterThanOrEqual(delay);
      expect(arrival.at - sentAt).toBeLessThanOrEqual(delayLevel(delay) + LATE_TOLERANCE_MS);
    }
    await Promise.all(arrivals.map(({ delivery }) => delivery.ack()));
  });

  it("keeps the message whole: routing key, exchange, headers, persistence; only the expiration goes", async () => {
    const { exchange, queue, inbox } = await route("topic", "a.*");
    const sentAt = await publishDelayed({
      exchange,
      routingKey: "a.b",
      mandatory: false,
      delay: 200,
      message: {
        body: Buffer.from("whole"),
        contentType: "text/plain",
        contentEncoding: "utf-8",
        headers: { kept: "yes", n: 1 },
        properties: { deliveryMode: 2, messageId: "m-1", expiration: 60_000, priority: 3 },
      },
    });
    const [arrival] = await inbox.next(1);
    const { message: got, info } = arrival!.delivery;
    expect(arrival!.at - sentAt).toBeGreaterThanOrEqual(200);
    expect(info).toMatchObject({ exchange, routingKey: "a.b", queue, redelivered: false });
    expect(got.contentType).toBe("text/plain");
    expect(got.contentEncoding).toBe("utf-8");
    expect(got.properties).toEqual({ deliveryMode: 2, messageId: "m-1", priority: 3 });
    // RabbitMQ's x-death and x-first-death-* from the delay queue are taken off.
    expect(got.headers).toEqual({ kept: "yes", n: 1 });
    await arrival!.delivery.ack();
  });

  it("declares one fanout exchange and durable classic queue per exchange and level, as documented", async () => {
    const { exchange } = await route();
    await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 1_000,
      message: message("pair"),
    });
    const name = delayName(exchange, 1_024);
    // RabbitMQ takes a redeclare only with equal settings.
    await channel.checkExchange(name);
    await channel.assertExchange(name, "fanout", { durable: true, autoDelete: false });
    const documented = {
      "x-queue-type": "classic",
      "x-message-ttl": 1_024,
      "x-dead-letter-exchange": exchange,
    };
    await channel.assertQueue(name, { durable: true, arguments: documented });
    for (const other of [
      { ...documented, "x-expires": 86_400_000 },
      { ...documented, "x-dead-letter-routing-key": "key" },
    ]) {
      const probe = await raw.createChannel();
      probe.on("error", () => {});
      await expect(probe.assertQueue(name, { durable: true, arguments: other })).rejects.toThrow(
        /PRECONDITION_FAILED/,
      );
    }
  });

  it("delays to the default exchange: the routing key names the queue", async () => {
    const queue = unique("delay-default");
    queues.push(queue);
    await connection.declareQueue({ name: queue, durable: false });
    const inbox = await Inbox.of(backend, queue);
    // carrot.delay.amq.default.* is shared by every sender of this broker: left in place.
    const sentAt = Date.now();
    await backend.publish({
      exchange: "",
      routingKey: queue,
      mandatory: false,
      delay: 100,
      message: message("to the queue"),
    });
    const [arrival] = await inbox.next(1);
    expect(arrival!.text).toBe("to the queue");
    expect(arrival!.at - sentAt).toBeGreaterThanOrEqual(100);
    expect(arrival!.delivery.info).toMatchObject({ exchange: "", routingKey: queue });
    await arrival!.delivery.ack();
  });

  it("routes a delayed message to a quorum queue", async () => {
    const exchange = unique("delay-x");
    const queue = unique("delay-quorum");
    exchanges.push(exchange);
    queues.push(queue);
    delayed.set(exchange, new Set());
    await connection.declareExchange({ name: exchange, durable: false });
    await connection.declareQueue({ name: queue, arguments: { queueType: "quorum" } });
    await connection.bindQueue({ queue, exchange, routingKey: "key" });
    const inbox = await Inbox.of(backend, queue);
    const sentAt = await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 250,
      message: message("replicated"),
    });
    const [arrival] = await inbox.next(1);
    expect(arrival!.text).toBe("replicated");
    expect(arrival!.at - sentAt).toBeGreaterThanOrEqual(250);
    expect(arrival!.delivery.info.deliveryCount).toBe(1);
    await arrival!.delivery.ack();
  });

  it("loses a delayed message whose target exchange is deleted before it is due (RabbitMQ drops it)", async () => {
    const { exchange, queue } = await route();
    await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 500,
      message: message("orphan"),
    });
    await connection.deleteExchange(exchange);
    const pending = pairOf(exchange, 500);
    await until("the delay queue to let the message go", async () => {
      const { messageCount } = await channel.checkQueue(pending);
      return messageCount === 0 ? true : undefined;
    });
    // Back, and bound again: the message is not coming.
    await connection.declareExchange({ name: exchange, durable: false });
    await connection.bindQueue({ queue, exchange, routingKey: "key" });
    expect((await channel.checkQueue(queue)).messageCount).toBe(0);
  });

  it("declares a delay queue deleted behind its back again, instead of losing the send", async () => {
    const { exchange, inbox } = await route();
    await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 50,
      message: message("first"),
    });
    await inbox.next(1);
    await channel.deleteQueue(pairOf(exchange, 50));
    await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 50,
      message: message("second"),
    });
    const arrivals = await inbox.next(2);
    expect(arrivals.map(({ text }) => text)).toEqual(["first", "second"]);
    await Promise.all(arrivals.map(({ delivery }) => delivery.ack()));
  });

  it("hides the delay from a later dead-lettering: the dead-letter queue sees the target queue's history alone", async () => {
    const exchange = unique("delay-x");
    const queue = unique("delay-q");
    const dead = unique("delay-dlq");
    exchanges.push(exchange);
    queues.push(queue, dead);
    delayed.set(exchange, new Set());
    await connection.declareExchange({ name: exchange, durable: false });
    await connection.declareQueue({ name: dead, durable: false });
    await connection.declareQueue({
      name: queue,
      durable: false,
      arguments: { deadLetterExchange: "", deadLetterRoutingKey: dead },
    });
    await connection.bindQueue({ queue, exchange, routingKey: "key" });
    const inbox = await Inbox.of(backend, queue);
    await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 50,
      message: message("rejected"),
    });
    const [arrival] = await inbox.next(1);
    await arrival!.delivery.reject(false);
    const deadLetter = await until(
      "the dead letter",
      async () => (await backend.get(dead, { noAck: true })) ?? undefined,
    );
    const { "x-death": deaths, ...headers } = deadLetter.message.headers;
    expect(headers).toEqual({
      "x-first-death-exchange": exchange,
      "x-first-death-queue": queue,
      "x-first-death-reason": "rejected",
    });
    expect(deaths).toMatchObject([{ queue, reason: "rejected", count: 1, exchange }]);
    expect(deaths).toHaveLength(1);
  });

  it("sends a message back to a queue it once left by dead-lettering (no dead-letter cycle)", async () => {
    // A queue that dead-letters its oldest message when a second arrives: x-death names it.
    const exchange = unique("delay-x");
    const queue = unique("delay-q");
    const dead = unique("delay-dlq");
    exchanges.push(exchange);
    queues.push(queue, dead);
    delayed.set(exchange, new Set());
    await connection.declareExchange({ name: exchange, durable: false });
    await connection.declareQueue({ name: dead, durable: false });
    await connection.declareQueue({
      name: queue,
      durable: false,
      arguments: { maxLength: 1, deadLetterExchange: "", deadLetterRoutingKey: dead },
    });
    await connection.bindQueue({ queue, exchange, routingKey: "key" });
    await backend.publish({ exchange, routingKey: "key", mandatory: false, message: message("a") });
    await backend.publish({ exchange, routingKey: "key", mandatory: false, message: message("b") });
    const deadLetter = await until(
      "the dead letter",
      async () => (await backend.get(dead, { noAck: true })) ?? undefined,
    );
    const headers = deadLetter.message.headers;
    expect(headers["x-first-death-queue"]).toBe(queue);
    expect(headers["x-death"]).toMatchObject([{ queue, reason: "maxlen" }]);

    // RabbitMQ 3.10 drops a dead-lettered message whose x-death already names the
    // queue it goes to, unless the message was rejected in between: sent with it
    // through a delay queue, "a" would be dropped when due.
    const inbox = await Inbox.of(backend, queue);
    await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 100,
      message: message("a again", headers),
    });
    const arrivals = await inbox.next(2);
    expect(arrivals.map(({ text }) => text)).toEqual(["b", "a again"]);
    // It arrives with the history it was sent with, hidden from RabbitMQ meanwhile.
    expect(arrivals[1]!.delivery.message.headers).toEqual(headers);
  });

  it("survives an x-death header RabbitMQ cannot read (3.10 would crash the delay queue)", async () => {
    const { exchange, inbox } = await route();
    const hostile = newHeaders();
    hostile["x-death"] = [1, 2];
    await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 100,
      message: message("hostile", hostile),
    });
    await publishDelayed({
      exchange,
      routingKey: "key",
      mandatory: false,
      delay: 100,
      message: message("after"),
    });
    const arrivals = await inbox.next(2);
    expect(arrivals.map(({ text }) => text)).toEqual(["hostile", "after"]);
    expect(arrivals[0]!.delivery.message.headers).toEqual({ "x-death": [1, 2] });
  });
});

describe("delayed delivery across a reconnect", () => {
  it("declares the delay pairs again, like the rest of the topology", async () => {
    const broker = new URL(AMQP_URL);
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    const connection = new Connection({
      url: proxy.url,
      reconnect: { initialDelay: 10, maxDelay: 100 },
    });
    const raw = await rawConnection();
    const exchange = unique("delay-recover");
    const queue = unique("delay-recover-q");
    const pair = pairOf(exchange, 80);
    try {
      await connection.declareExchange({ name: exchange, durable: false });
      await connection.declareQueue({ name: queue, durable: false });
      await connection.bindQueue({ queue, exchange, routingKey: "key" });
      const inbox = await Inbox.of(connection.backend, queue);
      const send = (text: string) =>
        connection.backend.publish({
          exchange,
          routingKey: "key",
          mandatory: false,
          delay: 80,
          message: message(text),
        });
      await send("before");
      const [before] = await inbox.next(1);
      await before!.delivery.ack();

      // The broker forgets the pair (as a node that lost its data would); the connection drops.
      const channel = await raw.createChannel();
      await channel.deleteQueue(pair);
      await channel.deleteExchange(pair);
      const { promise: reconnected, resolve } = deferred<BackendEvents["reconnect"]>();
      connection.on("reconnect", resolve);
      proxy.cutAll();
      await within(reconnected, 15_000, "the reconnect");

      // Declared again before anything else used the new connection.
      await channel.checkExchange(pair);
      await channel.checkQueue(pair);
      await send("after");
      const arrivals = await inbox.next(2);
      expect(arrivals.map(({ text }) => text)).toEqual(["before", "after"]);
    } finally {
      await connection.close();
      await proxy.close();
      const channel = await raw.createChannel();
      await channel.deleteQueue(pair);
      await channel.deleteExchange(pair);
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
      await raw.close();
    }
  });
});
