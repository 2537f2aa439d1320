import { Connection, Consumer, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { AMQP_URL, unique } from "./support/broker.js";

describe("auto-delete queues on RabbitMQ", () => {
  const connection = new Connection(AMQP_URL);
  const exchanges: string[] = [];
  afterAll(async () => {
    for (const exchange of exchanges) await connection.deleteExchange(exchange).catch(() => {});
    await connection.close();
  });

  it("a consumer's autoDelete is its queue's: a Publisher with default options shares the exchange", async () => {
    const route = { exchange: unique("shared-x"), routingKey: "k" };
    exchanges.push(route.exchange);
    const options = { queue: unique("auto"), ...route, autoDelete: true, durable: false };
    const consumer = new Consumer<string>(connection, options);
    await consumer.declare();
    await new Publisher(connection, { ...route, durable: false }).send("shared");
    const message = await consumer.fetch();
    expect(message?.payload).toBe("shared");
    await message?.ack();
    await connection.deleteQueue(options.queue);
  });

  it("a consume after cancel() declares the queue again, RabbitMQ having deleted it with its last consumer", async () => {
    const queue = unique("auto");
    const consumer = new Consumer<string>(connection, { queue, autoDelete: true, durable: false });
    const publisher = new Publisher<string>(connection, { routingKey: queue, mandatory: true });
    const got: string[] = [];
    consumer.registerCallback(async (data, message) => {
      got.push(data);
      await message.ack();
    });
    for (const payload of ["first", "second"]) {
      // wait({ limit: 1 }) cancels after one message: the queue goes with its last consumer.
      await Promise.all([
        consumer.wait({ limit: 1 }),
        consumer.declare().then(() => publisher.send(payload)),
      ]);
    }
    expect(got).toEqual(["first", "second"]);
  });
});
