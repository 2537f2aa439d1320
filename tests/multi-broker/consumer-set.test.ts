import { withTimeout } from "@carrot/conformance";
import { ConsumerSet, type Message } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import type { Broker } from "./support/brokers.js";
import { drain, type Endpoint, ROUTING_KEY, Scene, WAIT_MS } from "./support/scene.js";

// One ConsumerSet over queues of three brokers (memory, Redis, RabbitMQ),
// each on its own connection: one wait(), one loop, one close().

const BROKERS: Broker[] = ["memory", "redis", "rabbitmq"];

describe("ConsumerSet across memory, Redis and RabbitMQ", () => {
  const scene = new Scene();
  afterEach(() => scene.cleanUp());

  /** A queue on each broker, with `perQueue` messages named after it: "<broker>-<n>". */
  async function queuesWith(perQueue: number): Promise<Endpoint[]> {
    const endpoints = await Promise.all(BROKERS.map((broker) => scene.endpoint(broker, "set")));
    for (const endpoint of endpoints) {
      const sender = endpoint.publisher(endpoint.connection);
      for (let n = 1; n <= perQueue; n++)
        await sender.send(`${endpoint.broker}-${n}`, { routingKey: ROUTING_KEY });
    }
    return endpoints;
  }

  /** A set of one consumer per endpoint, each on a connection of its own. */
  async function setOf(endpoints: Endpoint[]): Promise<ConsumerSet> {
    const consumers = await Promise.all(
      endpoints.map(async (endpoint) => endpoint.consumer(await scene.connect(endpoint.broker))),
    );
    return new ConsumerSet(consumers);
  }

  it("one wait({ limit }) receives every queue's messages, exactly", async () => {
    const endpoints = await queuesWith(2);
    const set = await setOf(endpoints);
    const received: string[] = [];
    set.registerCallback(async (data, message) => {
      received.push(data as string);
      await message.ack();
    });
    await withTimeout(set.wait({ limit: 6 }), WAIT_MS, "6 messages", () => received.join());
    expect(received.sort()).toEqual(
      BROKERS.flatMap((broker) => [`${broker}-1`, `${broker}-2`]).sort(),
    );
    for (const endpoint of endpoints)
      expect(await drain(endpoint.consumer(endpoint.connection))).toEqual([]);
    await set.close();
  });

  it("one for await loop reads all three; leaving it hands back what it did not read", async () => {
    const endpoints = await queuesWith(3);
    const set = await setOf(endpoints);
    const read: Message[] = [];
    const loop = (async () => {
      for await (const message of set) {
        read.push(message);
        await message.ack();
        if (BROKERS.every((b) => read.some((m) => (m.payload as string).startsWith(b)))) break;
      }
    })();
    await withTimeout(loop, WAIT_MS, "a message of each broker");
    const left = await Promise.all(
      endpoints.map((endpoint) => drain(endpoint.consumer(endpoint.connection))),
    );
    const everything = [...read, ...left.flat()].map((m) => m.payload as string);
    // Each message once: read and acked, or handed back and still in its queue.
    expect(everything.sort()).toEqual(
      BROKERS.flatMap((broker) => [1, 2, 3].map((n) => `${broker}-${n}`)).sort(),
    );
    expect(read.map((m) => m.state)).toEqual(read.map(() => "acked"));
  });

  it("close() closes every consumer of the set, on every connection", async () => {
    const set = await setOf(await queuesWith(0));
    set.registerCallback(() => undefined);
    const waiting = set.wait();
    await set.close();
    await withTimeout(waiting, WAIT_MS, "wait() to end on close()");
    for (const consumer of set.consumers)
      await expect(consumer.fetch()).rejects.toThrow(/is closed/);
    for (const consumer of set.consumers) expect(consumer.connection.connected).toBe(true);
  });
});
