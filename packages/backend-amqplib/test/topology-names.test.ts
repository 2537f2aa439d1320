import { Connection, Consumer, InvalidOptionsError, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { AMQP_URL, rawConnection, unique } from "./support/broker.js";

// Queue and exchange names on the real RabbitMQ. What it does with a name
// holding CR or LF (it removes them) is why carrot refuses such names at
// declare time, before they reach it; and AMQP carries names in at most 255
// bytes. Core does the check for every backend; here it is shown on the
// broker that is its reason.

describe("queue and exchange names on RabbitMQ", () => {
  const connection = new Connection(AMQP_URL);
  afterAll(() => connection.close());

  it("RabbitMQ removes CR and LF from a declared name, so sends to the name as written go nowhere", async () => {
    const raw = await rawConnection();
    try {
      const channel = await raw.createChannel();
      const name = `${unique("raw")}\r\nstripped`;
      const { queue } = await channel.assertQueue(name, { autoDelete: true, durable: false });
      expect(queue).toBe(name.replace(/[\r\n]/g, ""));
      await channel.deleteQueue(queue);
      // And a name past 255 bytes cannot even be written on the wire.
      await expect(channel.assertQueue("q".repeat(256))).rejects.toThrow(/up to 255/);
    } finally {
      await raw.close().catch(() => undefined);
    }
  });

  it.each([
    ["a queue with a line feed", () => connection.declareQueue({ name: `${unique("nl")}\nx` })],
    [
      "a queue with a carriage return",
      () => connection.declareQueue({ name: `${unique("cr")}\r` }),
    ],
    [
      "an exchange with a line feed",
      () => connection.declareExchange({ name: `${unique("nl-x")}\n`, type: "fanout" }),
    ],
    ["a queue name of 256 bytes", () => connection.declareQueue({ name: "é".repeat(128) })],
    [
      "a Consumer's queue",
      () => new Consumer(connection, { queue: `${unique("consumer")}\n` }).declare(),
    ],
    [
      "a Publisher's exchange",
      () => new Publisher(connection, { exchange: `${unique("publisher")}\n` }).send("m"),
    ],
  ])("refuses %s with InvalidOptionsError naming it", async (_, declare) => {
    const error = await declare().then(
      () => expect.unreachable("declared"),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toMatch(/^(queue|exchange) name "/);
  });

  it("takes names of exactly 255 bytes, and routes messages through them", async () => {
    const exchange = `${"é".repeat(100)}${unique("x255")}`.padEnd(255 - 100, "x");
    const queue = `${"é".repeat(100)}${unique("q255")}`.padEnd(255 - 100, "q");
    expect(Buffer.byteLength(exchange)).toBe(255);
    expect(Buffer.byteLength(queue)).toBe(255);
    const consumer = new Consumer(connection, {
      queue,
      exchange,
      exchangeType: "fanout",
      durable: false,
      autoDelete: false,
    });
    await consumer.declare();
    try {
      await new Publisher(connection, { exchange, exchangeType: "fanout", durable: false }).send(
        "through long names",
      );
      const message = await consumer.fetch();
      expect(message?.payload).toBe("through long names");
      await message?.ack();
    } finally {
      await connection.deleteQueue(queue);
      await connection.deleteExchange(exchange);
    }
  });
});
