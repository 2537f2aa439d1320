import { randomUUID } from "node:crypto";
import { Connection, Consumer, DeclarationConflictError, Publisher } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";

const open: Connection[] = [];
function connect(): Connection {
  const connection = new Connection(`memory://auto-delete-${randomUUID()}`);
  open.push(connection);
  return connection;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe("a consumer's autoDelete", () => {
  it("is its queue's: a Publisher with default options shares the exchange", async () => {
    const connection = connect();
    const route = { exchange: "x", routingKey: "k" };
    const consumer = new Consumer(connection, { queue: "q", ...route, autoDelete: true });
    await consumer.declare();
    await new Publisher(connection, route).send("shared");
    expect((await consumer.fetch())?.payload).toBe("shared");
  });

  it("leaves the exchange to exchangeAutoDelete", async () => {
    const connection = connect();
    const route = { exchange: "x", routingKey: "k" };
    await new Consumer(connection, { queue: "q", ...route, exchangeAutoDelete: true }).declare();
    await new Publisher(connection, { ...route, autoDelete: true }).send("matching");
    await expect(new Publisher(connection, route).send("default")).rejects.toThrow(
      DeclarationConflictError,
    );
  });
});

describe("an auto-delete queue", () => {
  it("is declared again for a consume after cancel(), its last consumer having taken it away", async () => {
    const connection = connect();
    const consumer = new Consumer<string>(connection, { queue: "q", autoDelete: true });
    const publisher = new Publisher<string>(connection, { routingKey: "q" });
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
