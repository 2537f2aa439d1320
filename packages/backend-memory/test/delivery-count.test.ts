import { randomUUID } from "node:crypto";
import type { Delivery } from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import { MemoryBroker } from "../src/index.js";
import type { MemoryBackend } from "../src/memory-backend.js";
import { connectTo, declareQueue, textMessage, textOf } from "./private-broker.js";

// The memory broker counts the deliveries of each stored copy itself
// (`DeliveryInfo.deliveryCount`, 1 the first time), through requeues and
// closed connections, as a quorum queue's x-delivery-count does.

async function withMessage(
  text = "counted",
): Promise<{ broker: MemoryBroker; backend: MemoryBackend }> {
  const broker = new MemoryBroker();
  const backend = await connectTo(broker);
  await declareQueue(backend, "q");
  await backend.publish({
    exchange: "",
    routingKey: "q",
    mandatory: false,
    message: textMessage(text),
  });
  return { broker, backend };
}

function counts(delivery: Delivery | null) {
  return { deliveryCount: delivery?.info.deliveryCount, redelivered: delivery?.info.redelivered };
}

/** The next delivery on `queue` through a subscription (prefetch 1, acks). */
function nextConsumed(backend: MemoryBackend, queue: string): Promise<Delivery> {
  return new Promise((resolve) => {
    void backend.consume(
      queue,
      { prefetch: 1, noAck: false, exclusive: false, consumerTag: randomUUID() },
      resolve,
    );
  });
}

describe("deliveryCount on the memory broker", () => {
  it("is 1 on the first delivery, with redelivered false", async () => {
    const { backend } = await withMessage();
    expect(counts(await backend.get("q", { noAck: false }))).toEqual({
      deliveryCount: 1,
      redelivered: false,
    });
  });

  it("counts each requeue: 2, then 3, redelivered from the second", async () => {
    const { backend } = await withMessage();
    for (const expected of [1, 2, 3]) {
      const delivery = await backend.get("q", { noAck: false });
      expect(counts(delivery)).toEqual({ deliveryCount: expected, redelivered: expected > 1 });
      await delivery!.reject(true);
    }
  });

  it("counts a delivery held by a consumer whose connection closed unacked", async () => {
    const { broker, backend } = await withMessage();
    const first = await nextConsumed(backend, "q");
    expect(counts(first)).toEqual({ deliveryCount: 1, redelivered: false });
    await backend.close(); // the consumer is gone, the message back on its queue
    const other = await connectTo(broker);
    const again = await nextConsumed(other, "q");
    expect(textOf(again)).toBe("counted");
    expect(counts(again)).toEqual({ deliveryCount: 2, redelivered: true });
    await again.reject(true);
    expect(counts(await other.get("q", { noAck: false }))).toEqual({
      deliveryCount: 3,
      redelivered: true,
    });
    await other.close();
  });

  it("counts a delivery taken with get by a connection that closed unacked", async () => {
    const { broker, backend } = await withMessage();
    await backend.get("q", { noAck: false });
    await backend.close();
    const other = await connectTo(broker);
    expect(counts(await other.get("q", { noAck: false }))).toEqual({
      deliveryCount: 2,
      redelivered: true,
    });
    await other.close();
  });

  it("is kept per copy: each queue a message was routed to counts its own deliveries", async () => {
    const broker = new MemoryBroker();
    const backend = await connectTo(broker);
    await backend.declareExchange({
      name: "fan",
      type: "fanout",
      durable: false,
      autoDelete: false,
    });
    for (const queue of ["a", "b"]) {
      await declareQueue(backend, queue);
      await backend.bindQueue({ queue, exchange: "fan", routingKey: "" });
    }
    await backend.publish({
      exchange: "fan",
      routingKey: "",
      mandatory: false,
      message: textMessage("both"),
    });
    await (await backend.get("a", { noAck: false }))!.reject(true);
    expect((await backend.get("a", { noAck: false }))?.info.deliveryCount).toBe(2);
    expect((await backend.get("b", { noAck: false }))?.info.deliveryCount).toBe(1);
  });

  it("starts again at 1 for a dead-lettered message: a new copy in another queue", async () => {
    const broker = new MemoryBroker();
    const backend = await connectTo(broker);
    await backend.declareExchange({
      name: "dlx",
      type: "fanout",
      durable: false,
      autoDelete: false,
    });
    await declareQueue(backend, "dead");
    await backend.bindQueue({ queue: "dead", exchange: "dlx", routingKey: "" });
    await declareQueue(backend, "q", { deadLetterExchange: "dlx" });
    await backend.publish({
      exchange: "",
      routingKey: "q",
      mandatory: false,
      message: textMessage("dies"),
    });
    await (await backend.get("q", { noAck: false }))!.reject(true);
    await (await backend.get("q", { noAck: false }))!.reject(false);
    expect(counts(await backend.get("dead", { noAck: false }))).toEqual({
      deliveryCount: 1,
      redelivered: false,
    });
  });

  it("counts a noAck delivery too (it is the message's first and last)", async () => {
    const { backend } = await withMessage();
    expect(counts(await backend.get("q", { noAck: true }))).toEqual({
      deliveryCount: 1,
      redelivered: false,
    });
  });
});
