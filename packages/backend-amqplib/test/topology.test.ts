import {
  Connection,
  DeclarationConflictError,
  InvalidOptionsError,
  NotFoundError,
  Publisher,
  ResourceLockedError,
} from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL, rawConnection, unique } from "./support/broker.js";

describe("topology on RabbitMQ", () => {
  const connection = new Connection(AMQP_URL);
  const cleanup: string[] = [];
  beforeAll(async () => {
    await connection.connect();
  });
  afterAll(async () => {
    for (const queue of cleanup) await connection.deleteQueue(queue).catch(() => {});
    await connection.close();
  });

  it("maps carrot queue arguments to x- arguments, and passes raw x- arguments through", async () => {
    const queue = unique("args");
    const dlx = unique("dlx");
    cleanup.push(queue);
    await connection.declareExchange({
      name: dlx,
      type: "fanout",
      durable: false,
      autoDelete: true,
    });
    await connection.declareQueue({
      name: queue,
      durable: true,
      arguments: {
        deadLetterExchange: dlx,
        messageTtl: 60_000,
        maxLength: 10,
        maxPriority: 5,
        "x-overflow": "reject-publish",
      },
    });
    // The same declaration with the raw names is equivalent: RabbitMQ saw x- arguments.
    const raw = await rawConnection();
    const channel = await raw.createChannel();
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        "x-dead-letter-exchange": dlx,
        "x-message-ttl": 60_000,
        "x-max-length": 10,
        "x-max-priority": 5,
        "x-overflow": "reject-publish",
      },
    });
    await raw.close();
    await connection.deleteExchange(dlx);
  });

  it("declares quorum queues", async () => {
    const queue = unique("quorum");
    cleanup.push(queue);
    await connection.declareQueue({
      name: queue,
      durable: true,
      arguments: { "x-queue-type": "quorum" },
    });
    await connection.declareQueue({
      name: queue,
      durable: true,
      arguments: { "x-queue-type": "quorum" },
    });
  });

  it("a conflicting redeclare fails with DeclarationConflictError, and the connection goes on", async () => {
    const queue = unique("conflict");
    cleanup.push(queue);
    await connection.declareQueue({ name: queue, arguments: { messageTtl: 1000 } });
    await expect(
      connection.declareQueue({ name: queue, arguments: { messageTtl: 2000 } }),
    ).rejects.toThrow(DeclarationConflictError);
    const exchange = unique("conflict-x");
    await connection.declareExchange({
      name: exchange,
      type: "direct",
      autoDelete: true,
      durable: false,
    });
    await expect(
      connection.declareExchange({
        name: exchange,
        type: "topic",
        autoDelete: true,
        durable: false,
      }),
    ).rejects.toThrow(DeclarationConflictError);
    await connection.declareQueue({ name: queue, arguments: { messageTtl: 1000 } });
    await connection.deleteExchange(exchange);
  });

  it("a missing queue is NotFoundError; another connection's exclusive queue is ResourceLockedError", async () => {
    await expect(connection.purgeQueue(unique("missing"))).rejects.toThrow(NotFoundError);
    const other = new Connection(AMQP_URL);
    const queue = unique("exclusive");
    await other.declareQueue({ name: queue, exclusive: true, durable: false });
    await expect(
      connection.declareQueue({ name: queue, exclusive: true, durable: false }),
    ).rejects.toThrow(ResourceLockedError);
    await expect(connection.purgeQueue(queue)).rejects.toThrow(ResourceLockedError);
    await other.close();
  });

  it("a channel error reaches only the caller that caused it, not publishers or consumers on the same connection", async () => {
    const queue = unique("isolation");
    cleanup.push(queue);
    await connection.declareQueue({ name: queue, arguments: { messageTtl: 1000 } });
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    const backend = connection.backend;
    const received: number[] = [];
    const subscription = await backend.consume(
      queue,
      { prefetch: 0, noAck: false, exclusive: false, consumerTag: unique("tag") },
      (delivery) => {
        received.push(JSON.parse(Buffer.from(delivery.message.body).toString()));
        void delivery.ack();
      },
    );
    // Sends in flight, and conflicting declares interleaved with them.
    const sends = Array.from({ length: 200 }, (_, i) => publisher.send(i));
    const conflicts = Array.from({ length: 5 }, () =>
      connection.declareQueue({ name: queue, arguments: { messageTtl: 5 } }).then(
        () => "declared",
        (error: Error) => error.name,
      ),
    );
    const good = connection.declareQueue({ name: queue, arguments: { messageTtl: 1000 } });
    await Promise.all(sends);
    expect(await Promise.all(conflicts)).toEqual(Array(5).fill("DeclarationConflictError"));
    await good;
    const deadline = Date.now() + 10_000;
    while (received.length < 200 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await subscription.cancel();
  });

  it("publishing to a missing exchange fails that send only", async () => {
    const queue = unique("missing-exchange");
    cleanup.push(queue);
    await connection.declareQueue({ name: queue });
    const good = new Publisher(connection, { exchange: "", routingKey: queue });
    const sends = Array.from({ length: 50 }, (_, i) => good.send(i));
    await expect(
      connection.backend.publish({
        exchange: unique("nope"),
        routingKey: "k",
        mandatory: false,
        message: { body: new Uint8Array([1]), headers: {}, properties: {} },
      }),
    ).rejects.toThrow(NotFoundError);
    await Promise.all(sends);
    expect(await connection.purgeQueue(queue)).toBe(50);
  });

  it("unbind and delete stop delivery and are forgotten", async () => {
    const exchange = unique("unbind");
    const queue = unique("unbind-q");
    await connection.declareExchange({
      name: exchange,
      type: "direct",
      durable: false,
      autoDelete: false,
    });
    await connection.declareQueue({ name: queue, durable: false });
    await connection.bindQueue({ queue, exchange, routingKey: "k" });
    const publisher = new Publisher(connection, { exchange, routingKey: "k", durable: false });
    await publisher.send("one");
    await connection.unbindQueue({ queue, exchange, routingKey: "k" });
    await publisher.send("two");
    expect(await connection.purgeQueue(queue)).toBe(1);
    await connection.deleteQueue(queue);
    await expect(connection.purgeQueue(queue)).rejects.toThrow(NotFoundError);
    await connection.deleteExchange(exchange);
  });

  it("arguments amqplib cannot encode fail with InvalidOptionsError, at once", async () => {
    const exchange = unique("huge-args");
    const queue = unique("huge-args-q");
    cleanup.push(queue);
    await connection.declareExchange({
      name: exchange,
      type: "headers",
      durable: false,
      autoDelete: true,
    });
    await connection.declareQueue({ name: queue, durable: false });
    await expect(
      connection.bindQueue({
        queue,
        exchange,
        routingKey: "",
        arguments: { "x-match": "all", big: "x".repeat(70_000) },
      }),
    ).rejects.toThrow(InvalidOptionsError);
    await connection.bindQueue({
      queue,
      exchange,
      routingKey: "",
      arguments: { "x-match": "all", small: "x" },
    });
    await connection.deleteExchange(exchange);
  });
});
