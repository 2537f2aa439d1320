import { createRequire } from "node:module";
import {
  Connection,
  Publisher,
  PublishNackedError,
  PublishOutcomeUnknownError,
  UnroutableError,
} from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL, eventually, unique } from "./support/broker.js";
import { FaultProxy } from "./support/fault-proxy.js";

const broker = new URL(AMQP_URL);

/** Counts what reaches amqplib's ConfirmChannel.publish (the same module instance the backend uses). */
function countConfirmPublishes() {
  const require = createRequire(import.meta.url);
  const model = require(
    require.resolve("amqplib").replace(/channel_api\.js$/, "lib/channel_model.js"),
  );
  const proto = model.ConfirmChannel.prototype;
  const original = proto.publish;
  const counter = { calls: 0, restore: () => (proto.publish = original) };
  proto.publish = function (this: unknown, ...args: unknown[]) {
    counter.calls++;
    return original.apply(this, args);
  };
  return counter;
}

function raw(body: string) {
  return { body: new TextEncoder().encode(body), headers: {}, properties: {} };
}

describe("publishing with confirms", () => {
  const connection = new Connection(AMQP_URL);
  const queues: string[] = [];
  beforeAll(async () => {
    await connection.connect();
  });
  afterAll(async () => {
    for (const queue of queues) await connection.deleteQueue(queue).catch(() => {});
    await connection.close();
  });

  it("resolves many sends in flight once confirmed", async () => {
    const queue = unique("confirm");
    queues.push(queue);
    await connection.declareQueue({ name: queue });
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => publisher.send({ i })));
    expect(await connection.purgeQueue(queue)).toBe(2000);
  });

  it("rejects with PublishNackedError when the broker refuses the message", async () => {
    const queue = unique("nack");
    queues.push(queue);
    await connection.declareQueue({
      name: queue,
      arguments: { maxLength: 1, "x-overflow": "reject-publish" },
    });
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    await publisher.send("fits");
    await expect(publisher.send("overflows")).rejects.toThrow(PublishNackedError);
    await publisher
      .send("still works")
      .catch((error: Error) => expect(error).toBeInstanceOf(PublishNackedError));
    expect(await connection.purgeQueue(queue)).toBe(1);
  });

  it("matches each mandatory return to its own send, among many in flight", async () => {
    const exchange = unique("mandatory");
    const queue = unique("mandatory-q");
    queues.push(queue);
    await connection.declareExchange({
      name: exchange,
      type: "direct",
      durable: false,
      autoDelete: true,
    });
    await connection.declareQueue({ name: queue, durable: false });
    await connection.bindQueue({ queue, exchange, routingKey: "bound" });
    const publisher = new Publisher(connection, {
      exchange,
      durable: false,
      autoDelete: true,
      mandatory: true,
    });
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const routingKey = i % 3 === 0 ? "nowhere" : "bound";
        return publisher.send({ i }, { routingKey }).then(
          () => "sent",
          (error: Error) => (error instanceof UnroutableError ? "unroutable" : error.message),
        );
      }),
    );
    expect(outcomes).toEqual(outcomes.map((_, i) => (i % 3 === 0 ? "unroutable" : "sent")));
    expect(await connection.purgeQueue(queue)).toBe(200);
  });

  it("tells the outcome is unknown when the connection dies before the confirm", async () => {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    const viaProxy = new Connection({
      url: proxy.url,
      reconnect: { initialDelay: 10, maxDelay: 50 },
    });
    const queue = unique("unknown");
    queues.push(queue);
    await viaProxy.declareQueue({ name: queue });
    const publisher = new Publisher(viaProxy, { exchange: "", routingKey: queue });
    await publisher.send("before");
    proxy.stall();
    const pending = Array.from({ length: 20 }, (_, i) =>
      publisher.send(i).then(
        () => "sent",
        (error: Error) => error,
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    proxy.cutAll();
    proxy.stall(false);
    const outcomes = await Promise.all(pending);
    for (const outcome of outcomes) expect(outcome).toBeInstanceOf(PublishOutcomeUnknownError);
    // And the publisher works again after the reconnect.
    await publisher.send("after");
    await viaProxy.close();
    await proxy.close();
  });

  it("waits for drain instead of buffering without bound when the socket cannot keep up", async () => {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    const viaProxy = new Connection({ url: proxy.url });
    const queue = unique("drain");
    queues.push(queue);
    await viaProxy.declareQueue({ name: queue, durable: false });
    const backend = viaProxy.backend;
    await backend.publish({
      exchange: "",
      routingKey: queue,
      mandatory: false,
      message: raw("warm-up"),
    });
    const counter = countConfirmPublishes();
    try {
      proxy.stall();
      const body = "x".repeat(4096);
      const sends = Array.from({ length: 20_000 }, () =>
        backend.publish({ exchange: "", routingKey: queue, mandatory: false, message: raw(body) }),
      );
      // Writes go on until the channel's buffer is full, then stop.
      await eventually("the write buffer to fill", () => (counter.calls > 500 ? true : undefined));
      const stopped = counter.calls;
      // Many turns of the event loop: nothing can drain while the proxy stalls.
      for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(counter.calls).toBe(stopped);
      expect(stopped).toBeLessThan(5_000);
      proxy.stall(false);
      await Promise.all(sends);
      expect(counter.calls).toBe(20_000);
    } finally {
      counter.restore();
    }
    expect(await viaProxy.purgeQueue(queue)).toBe(20_001);
    await viaProxy.close();
    await proxy.close();
  });
});
