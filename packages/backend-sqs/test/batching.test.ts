import { Consumer, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { connectSqs, countCommands, deleteQueues, uniquePrefix, waitFor } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

describe("batching against SQS", () => {
  it("coalesces concurrent sends into SendMessageBatch and acks into DeleteMessageBatch", async () => {
    const { conn, backend } = await connectSqs(prefix);
    const consumer = new Consumer<{ i: number }>(conn, { queue: "batch", prefetchCount: 50 });
    await consumer.declare();
    const counts = countCommands(backend.client, backend.sendClient);
    const publisher = new Publisher(conn, { routingKey: "batch" });
    await Promise.all(Array.from({ length: 45 }, (_, i) => publisher.send({ i })));
    expect(counts.SendMessageBatchCommand).toBe(5);
    expect(counts.SendMessageCommand).toBeUndefined();

    const seen = new Set<number>();
    const all = waitFor<void>("45 messages");
    consumer.registerCallback(async (data, message) => {
      seen.add(data.i);
      await message.ack();
      if (seen.size === 45) all.resolve();
    });
    const waiting = consumer.wait();
    await all.promise;
    await consumer.cancel();
    await waiting;
    expect(seen.size).toBe(45);
    // 45 acks, issued as messages arrive in receive batches: far fewer requests than acks.
    expect(counts.DeleteMessageBatchCommand).toBeLessThanOrEqual(15);
    expect(counts.DeleteMessageCommand).toBeUndefined();
    expect(await consumer.discardAll()).toBe(0);
    await conn.close();
  });

  it("never holds more unsettled messages than the prefetch", async () => {
    const { conn } = await connectSqs(prefix);
    const consumer = new Consumer(conn, { queue: "prefetch", prefetchCount: 3 });
    await consumer.declare();
    const publisher = new Publisher(conn, { routingKey: "prefetch" });
    await Promise.all(Array.from({ length: 10 }, (_, i) => publisher.send(i)));
    const held: { ack(): Promise<void> }[] = [];
    let max = 0;
    const three = waitFor<void>("3 deliveries");
    const all = waitFor<void>("10 deliveries");
    let total = 0;
    consumer.registerCallback(async (_data, message) => {
      held.push(message);
      total++;
      max = Math.max(max, held.length);
      if (held.length === 3 && total === 3) three.resolve();
      if (total === 10) all.resolve();
      if (total > 3) {
        held.splice(held.indexOf(message), 1);
        await message.ack();
      }
    });
    const waiting = consumer.wait();
    await three.promise;
    // With 3 held, a 4th may only come after one is acked.
    expect(total).toBe(3);
    const first = held.splice(0, 3);
    for (const message of first) await message.ack();
    await all.promise;
    expect(max).toBeLessThanOrEqual(3);
    await consumer.cancel();
    await waiting;
    await conn.close();
  });
});
