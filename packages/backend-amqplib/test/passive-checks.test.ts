import { Connection, Consumer, NotFoundError, Publisher } from "@carrot/core";
import { afterAll, expect, it } from "vitest";
import { AMQP_URL, unique } from "./support/broker.js";

const connection = new Connection(AMQP_URL);
afterAll(() => connection.close());

it("a failed passive check closes only its own channel: a consumer and a publisher on the same connection go on", async () => {
  const queue = unique("passive");
  const consumer = new Consumer<string>(connection, { queue, durable: false, autoDelete: true });
  const got: string[] = [];
  consumer.registerCallback(async (data, message) => {
    got.push(data);
    await message.ack();
  });
  const consuming = consumer.wait({ limit: 2 });
  await consumer.declare();
  const publisher = new Publisher<string>(connection, { routingKey: queue, mandatory: true });
  await publisher.send("before");
  // RabbitMQ answers each with a channel close (404 NOT_FOUND).
  const misspelt = new Consumer(connection, { queue: `${queue}-misspelt`, passive: true });
  await expect(misspelt.fetch()).rejects.toThrow(NotFoundError);
  await expect(
    new Publisher(connection, { exchange: unique("no-such-x"), passive: true }).send("lost"),
  ).rejects.toThrow(NotFoundError);
  await expect(connection.declareQueue({ name: queue, passive: true })).resolves.toBeUndefined();
  await publisher.send("after");
  await consuming; // wait({ limit: 2 }) ends with the second message
  expect(got).toEqual(["before", "after"]);
});

it("the NotFoundError names the queue RabbitMQ did not find", async () => {
  const queue = unique("missing");
  const error = await new Consumer(connection, { queue, passive: true })
    .declare()
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NotFoundError);
  expect(String(error)).toContain(`checking queue '${queue}' failed: NOT_FOUND`);
});
