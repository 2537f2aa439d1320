import { Connection, Consumer, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { type SqsBackend, sqsBackend } from "../src/index.js";
import { deleteQueues, sqsUrl, uniquePrefix, waitFor } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

describe("smoke", () => {
  it("sends and consumes through a topic exchange", async () => {
    const conn = new Connection({ url: sqsUrl(prefix), backend: sqsBackend });
    const consumer = new Consumer<{ n: number }>(conn, {
      queue: "smoke.q",
      exchange: "smoke",
      exchangeType: "topic",
      routingKey: "a.#",
    });
    await consumer.declare();
    const publisher = new Publisher(conn, {
      exchange: "smoke",
      exchangeType: "topic",
      routingKey: "a.b",
    });
    await Promise.all([1, 2, 3].map((n) => publisher.send({ n })));
    const got: number[] = [];
    const done = waitFor<void>("3 messages");
    consumer.registerCallback(async (data, message) => {
      got.push(data.n);
      await message.ack();
      if (got.length === 3) done.resolve();
    });
    const waiting = consumer.wait();
    await done.promise;
    await consumer.cancel();
    await waiting;
    expect(got.sort()).toEqual([1, 2, 3]);
    await conn.close();
  });

  it("both SDK clients resolve their middleware once (cacheMiddleware), not on every request", async () => {
    // The stack is final before the first request: the reachability watch is added before the connect probe.
    const conn = new Connection({ url: sqsUrl(prefix), backend: sqsBackend });
    await conn.connect();
    const backend = conn.backend as unknown as SqsBackend;
    expect([
      backend.client.config.cacheMiddleware,
      backend.sendClient.config.cacheMiddleware,
    ]).toEqual([true, true]);
    await conn.close();
  });
});
