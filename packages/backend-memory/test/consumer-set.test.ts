import { randomUUID } from "node:crypto";
import { withTimeout } from "@carrot/conformance";
import { Connection, Consumer, ConsumerSet, NotFoundError, Publisher } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";

// ConsumerSet over consumers of several connections (each its own memory
// broker here: nothing shared but the set), in both of its forms.

const open: Connection[] = [];
function connect(): Connection {
  const connection = new Connection(`memory://set-${randomUUID()}`);
  open.push(connection);
  return connection;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/** Two brokers, a text consumer of queue q on each, and the messages sent to each. */
async function twoBrokers(messages: [string[], string[]]) {
  const consumers = await Promise.all(
    messages.map(async (payloads) => {
      const connection = connect();
      const consumer = new Consumer<string>(connection, { queue: "q" });
      await consumer.declare();
      const publisher = new Publisher<string, "text">(connection, {
        routingKey: "q",
        serializer: "text",
      });
      for (const payload of payloads) await publisher.send(payload);
      return consumer;
    }),
  );
  return consumers as [Consumer<string>, Consumer<string>];
}

/** What is left in a consumer's queue, read and acked. */
async function leftIn(consumer: Consumer<string>): Promise<string[]> {
  const left: string[] = [];
  for (let m = await consumer.fetch(); m; m = await consumer.fetch()) {
    left.push(m.payload);
    await m.ack();
  }
  return left;
}

describe("ConsumerSet of consumers on several connections", () => {
  it("wait({ limit }) starts exactly limit messages across its consumers; the rest stay queued", async () => {
    const [a, b] = await twoBrokers([
      ["a1", "a2", "a3", "a4", "a5"],
      ["b1", "b2", "b3", "b4", "b5"],
    ]);
    const set = new ConsumerSet([a, b]);
    const seen: string[] = [];
    set.registerCallback(async (data, message) => {
      seen.push(data);
      await message.ack();
    });
    await withTimeout(set.wait({ limit: 3 }), 5_000, "three messages");
    expect(seen).toHaveLength(3);
    const left = [...(await leftIn(a)), ...(await leftIn(b))];
    expect([...seen, ...left].sort()).toEqual([
      "a1",
      "a2",
      "a3",
      "a4",
      "a5",
      "b1",
      "b2",
      "b3",
      "b4",
      "b5",
    ]);
  });

  it("wait() with shared callbacks consumes every connection's queue", async () => {
    const [a, b] = await twoBrokers([["a1", "a2"], ["b1"]]);
    const set = new ConsumerSet([a, b]);
    expect(set.connection).toBeUndefined();
    const seen: string[] = [];
    set.registerCallback(async (data, message) => {
      seen.push(data);
      await message.ack();
    });
    await withTimeout(set.wait({ limit: 3 }), 5_000, "three messages");
    expect(seen.sort()).toEqual(["a1", "a2", "b1"]);
    expect([await leftIn(a), await leftIn(b)]).toEqual([[], []]);
  });

  it("for await reads both in one loop; leaving it hands the unread back", async () => {
    const [a, b] = await twoBrokers([
      ["a1", "a2", "a3"],
      ["b1", "b2", "b3"],
    ]);
    const set = new ConsumerSet([a, b]);
    const read: string[] = [];
    for await (const message of set) {
      read.push(message.payload);
      await message.ack();
      if (read.length === 4) break;
    }
    const [leftA, leftB] = [await leftIn(a), await leftIn(b)];
    // Each broker's messages in their order; what was not read is still there, once.
    const from = (prefix: string) => read.filter((p) => p.startsWith(prefix));
    expect([...from("a"), ...leftA]).toEqual(["a1", "a2", "a3"]);
    expect([...from("b"), ...leftB]).toEqual(["b1", "b2", "b3"]);
  });

  it("a message read but not settled when the loop is left goes back too", async () => {
    const [a, b] = await twoBrokers([["a1"], ["b1"]]);
    const set = new ConsumerSet([a, b]);
    for await (const message of set) {
      expect(["a1", "b1"]).toContain(message.payload);
      break;
    }
    expect([await leftIn(a), await leftIn(b)]).toEqual([["a1"], ["b1"]]);
  });

  it("the loop ends with the error of a queue deleted under it, and the others stop", async () => {
    const [a, b] = await twoBrokers([[], []]);
    a.on("error", () => undefined);
    const set = new ConsumerSet([a, b]);
    const looping = (async () => {
      for await (const _ of set) expect.unreachable("no message was sent");
    })();
    await a.connection.deleteQueue("q");
    await expect(withTimeout(looping, 5_000, "the loop to end")).rejects.toBeInstanceOf(
      NotFoundError,
    );
    // b was cancelled with the loop: a message sent now waits in its queue for a fetch.
    await new Publisher<string, "text">(b.connection, { routingKey: "q", serializer: "text" }).send(
      "b1",
    );
    expect(await leftIn(b)).toEqual(["b1"]);
  });

  it("close() closes every consumer, ending a wait() on all of them", async () => {
    const [a, b] = await twoBrokers([[], []]);
    const set = new ConsumerSet<string>(connect(), { consumers: [a], queues: [{ queue: "c" }] });
    set.add(b);
    set.registerCallback(() => undefined);
    const waiting = set.wait();
    await set.close();
    await withTimeout(waiting, 5_000, "wait() to end on close()");
    for (const consumer of set.consumers)
      await expect(consumer.fetch()).rejects.toThrow(/is closed/);
  });
});
