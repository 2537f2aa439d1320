import {
  Connection,
  Consumer,
  DeclarationConflictError,
  InvalidOptionsError,
  Publisher,
} from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { AMQP_URL, unique, within } from "./support/broker.js";

// Quorum queues on one node: the API and the delivery limit. Their point,
// surviving the loss of a node, is proven on a cluster (cluster/node-loss.test.ts).
describe("quorum queues", () => {
  const connection = new Connection(AMQP_URL);
  const queues: string[] = [];
  const exchanges: string[] = [];
  afterAll(async () => {
    for (const queue of queues) await connection.deleteQueue(queue).catch(() => {});
    for (const exchange of exchanges) await connection.deleteExchange(exchange).catch(() => {});
    await connection.close();
  });

  function named(kind: "queue" | "exchange", prefix: string): string {
    const name = unique(prefix);
    (kind === "queue" ? queues : exchanges).push(name);
    return name;
  }

  it('queueType "quorum" declares a quorum queue: a classic redeclare conflicts', async () => {
    const queue = named("queue", "quorum");
    await new Consumer(connection, { queue, queueArguments: { queueType: "quorum" } }).declare();
    // Same settings: idempotent. Raw x-queue-type: the same queue.
    await connection.declareQueue({ name: queue, arguments: { queueType: "quorum" } });
    await connection.declareQueue({ name: queue, arguments: { "x-queue-type": "quorum" } });
    await expect(
      connection.declareQueue({ name: queue, arguments: { queueType: "classic" } }),
    ).rejects.toThrow(DeclarationConflictError);
  });

  it("deliveryLimit dead-letters a message returned more than that many times", async () => {
    const dlx = named("exchange", "dlx");
    const dlq = named("queue", "dlq");
    const dead = new Consumer<string>(connection, {
      queue: dlq,
      exchange: dlx,
      routingKey: "dead",
    });
    await dead.declare();
    const queue = named("queue", "poison");
    const consumer = new Consumer<string>(connection, {
      queue,
      queueArguments: {
        queueType: "quorum",
        deliveryLimit: 2,
        deadLetterExchange: dlx,
        deadLetterRoutingKey: "dead",
      },
    });
    await consumer.declare();
    await new Publisher<string>(connection, { routingKey: queue }).send("poison");

    const deliveryCounts: unknown[] = [];
    for (let message = await consumer.fetch(); message; message = await consumer.fetch()) {
      deliveryCounts.push(message.headers["x-delivery-count"]);
      await message.requeue();
    }
    // Delivered three times (x-delivery-count 0, 1, 2): the third return is over the limit.
    expect(deliveryCounts).toEqual([0, 1, 2]);
    const deadLetters = dead[Symbol.asyncIterator]();
    const { value: deadLettered } = await within(deadLetters.next(), 10_000, "the dead letter");
    expect(deadLettered.payload).toBe("poison");
    expect(deadLettered.headers["x-first-death-reason"]).toBe("delivery_limit");
    await deadLettered.ack();
    await deadLetters.return?.();
  });

  it("refuses both spellings of one argument", async () => {
    const queue = named("queue", "both");
    await expect(
      connection.declareQueue({
        name: queue,
        arguments: { queueType: "quorum", "x-queue-type": "classic" },
      }),
    ).rejects.toThrow(
      new InvalidOptionsError(
        `queue '${queue}' has both queueType and 'x-queue-type' in its arguments; give one of them`,
      ),
    );
  });
});
