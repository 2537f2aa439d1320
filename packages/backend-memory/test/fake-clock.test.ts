import { randomUUID } from "node:crypto";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// Core over the memory broker with vitest's fake timers: delayed sends and a
// failure policy's backoff run on the fake clock, so a test of either never
// sleeps. What the README promises an application's own tests.

let connection: Connection;
beforeEach(() => {
  vi.useFakeTimers();
  connection = new Connection(`memory://fake-clock-${randomUUID()}`);
});
afterEach(async () => {
  await connection.close();
  vi.useRealTimers();
});

describe("the memory broker on fake timers", () => {
  it("delivers a delayed send when the fake clock reaches its delay, not before", async () => {
    const consumer = new Consumer<string>(connection, { queue: "q" });
    const arrivals: number[] = [];
    consumer.registerCallback(async (_data, message) => {
      arrivals.push(Date.now());
      await message.ack();
    });
    await consumer.declare();
    const waiting = consumer.wait({ limit: 1 });
    const sentAt = Date.now();
    await new Publisher<string>(connection, { routingKey: "q" }).send("later", { delay: 60_000 });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(arrivals).toEqual([]);
    await vi.advanceTimersByTimeAsync(2); // and the queue's dispatch turn
    await waiting;
    expect(arrivals).toEqual([sentAt + 60_001]);
  });

  it("waits a failing message's backoff on the fake clock, counting its deliveries, then keeps it in the failed queue", async () => {
    const consumer = new Consumer<string>(connection, {
      queue: "q",
      retry: { attempts: 3, backoff: { initial: 1_000, factor: 2, jitter: "none" } },
    });
    const deliveries: { at: number; count: number }[] = [];
    const reports: unknown[] = [];
    consumer.on("error", (error) => reports.push(error));
    consumer.registerCallback(async (_data, message) => {
      deliveries.push({ at: Date.now(), count: message.deliveryCount });
      throw new Error("always fails");
    });
    await consumer.declare();
    const waiting = consumer.wait({ limit: 3 });
    const start = Date.now();
    await new Publisher<string>(connection, { routingKey: "q" }).send("doomed");
    await vi.advanceTimersByTimeAsync(10_000);
    await waiting;
    // Each retry is due its backoff (1 s, then 2 s) after the failure; the
    // memory broker delivers it 1 ms later (the queue's dispatch turn, faked).
    const offsets = deliveries.map(({ at, count }) => ({ after: at - start, count }));
    expect(offsets.map(({ count }) => count)).toEqual([1, 2, 3]);
    expect(offsets[1]!.after - offsets[0]!.after).toBeGreaterThanOrEqual(1_000);
    expect(offsets[1]!.after - offsets[0]!.after).toBeLessThanOrEqual(1_002);
    expect(offsets[2]!.after - offsets[1]!.after).toBeGreaterThanOrEqual(2_000);
    expect(offsets[2]!.after - offsets[1]!.after).toBeLessThanOrEqual(2_002);
    expect(reports).toHaveLength(3);
    const failed = await new Consumer<string>(connection, { queue: "q.failed" }).fetch();
    expect(failed?.payload).toBe("doomed");
    expect(failed?.failure?.attempts).toBe(3);
  });
});
