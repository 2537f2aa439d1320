import { randomUUID } from "node:crypto";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// Memory's sends are confirmed at once, so a loop of awaited sends never
// yields to the queue's dispatch (a later turn): without flow control the
// consumer would get nothing until the publisher stopped.

const BACKLOG = 1000; // FLOW_CONTROL_BACKLOG in memory-queue.ts
const PREFETCH = 100;

let connection: Connection;
beforeEach(() => {
  connection = new Connection(`memory://flow-control-${randomUUID()}`);
});
afterEach(async () => {
  await connection.close();
});

describe("memory flow control", () => {
  it("holds a publish to a queue whose consumers wait on more than the backlog until its dispatch", async () => {
    const consumer = new Consumer<number>(connection, { queue: "q", prefetchCount: PREFETCH });
    const received: number[] = [];
    consumer.registerCallback(async (data, message) => {
      received.push(data);
      await message.ack();
    });
    await consumer.declare();
    const consumed = consumer.wait({ limit: 3 * BACKLOG });
    const publisher = new Publisher<number>(connection, { routingKey: "q" });
    /** How many the consumer had when each send was confirmed. */
    const receivedWhenConfirmed: number[] = [];
    for (let n = 0; n < 3 * BACKLOG; n++) {
      await publisher.send(n);
      receivedWhenConfirmed.push(received.length);
    }
    // Up to the backlog nothing is held (no turn taken): the consumer has had no dispatch yet.
    expect(receivedWhenConfirmed.slice(0, BACKLOG)).toEqual(new Array(BACKLOG).fill(0));
    // The next send waits for one dispatch, which hands the consumer its prefetch.
    expect(receivedWhenConfirmed[BACKLOG]).toBe(PREFETCH);
    await consumed;
    expect(received).toEqual(Array.from({ length: 3 * BACKLOG }, (_, n) => n));
  });

  it("holds nothing for a queue no consumer takes from: it is a buffer", async () => {
    await new Consumer(connection, { queue: "buffer" }).declare();
    const publisher = new Publisher<number>(connection, { routingKey: "buffer" });
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    for (let n = 0; n < 2 * BACKLOG; n++) await publisher.send(n);
    clearInterval(counting);
    expect(turns).toBe(0);
    expect(await connection.purgeQueue("buffer")).toBe(2 * BACKLOG);
  });
});
