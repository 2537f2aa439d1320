import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type SendMessageBatchCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { UnsupportedFeatureError } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { DELAY_ATTRIBUTE } from "../src/delayed-delivery.js";
import type { SqsBackend } from "../src/index.js";
import { sqsQueueName } from "../src/queue-names.js";
import { collect, declare, drain, send } from "./backend-direct.js";
import { connectSqs, deleteQueues, uniquePrefix } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

// Delays are about time, so these tests measure it, on this host's clock
// (which fauxqs, on the same host, shares). Never early is exact: a message
// must not arrive before the moment its send was called plus its delay.
// Late is bounded: whole seconds (SQS delays and holds are whole seconds,
// rounded up) plus LATE_MS for long polls and scheduling on a loaded
// 2-core machine.
const LATE_MS = 2000;
function lateBound(delay: number): number {
  return Math.ceil(delay / 1000) * 1000 + LATE_MS;
}

/** Records the entries of every SendMessageBatch sent through `client`. */
function recordSends(client: SQSClient): SendMessageBatchCommandInput[] {
  const sent: SendMessageBatchCommandInput[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "SendMessageBatchCommand")
        sent.push(args.input as SendMessageBatchCommandInput);
      return next(args);
    },
    { step: "initialize", name: "carrotTestSendRecorder" },
  );
  return sent;
}

/** How many messages SQS holds for the queue: ready, in flight and delayed. */
async function held(backend: SqsBackend, queue: string): Promise<number> {
  const { QueueUrl } = await backend.client.send(
    new GetQueueUrlCommand({ QueueName: sqsQueueName(queue, prefix) }),
  );
  const { Attributes = {} } = await backend.client.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
}

describe("delays on a standard queue", () => {
  it("go as DelaySeconds rounded up to whole seconds, per entry of one SendMessageBatch", async () => {
    const { conn, backend } = await connectSqs(prefix);
    await declare(backend, "rounding");
    const sent = recordSends(backend.sendClient);
    await Promise.all([
      send(backend, "rounding", "1 ms", { delay: 1 }),
      send(backend, "rounding", "1000 ms", { delay: 1000 }),
      send(backend, "rounding", "1001 ms", { delay: 1001 }),
      send(backend, "rounding", "none"),
      send(backend, "rounding", "900 s", { delay: 900_000 }),
      send(backend, "rounding", "an hour", { delay: 3_600_000 }),
    ]);
    expect(sent).toHaveLength(1);
    const entries = sent[0]?.Entries ?? [];
    expect(entries.map((e) => [e.MessageBody, e.DelaySeconds])).toEqual([
      ["1 ms", 1],
      ["1000 ms", 1],
      ["1001 ms", 2],
      ["none", undefined],
      ["900 s", 900],
      ["an hour", 900], // the longest SQS takes; the rest by holds
    ]);
    // Only the delay SQS cannot apply alone travels with the message.
    expect(entries.map((e) => e.MessageAttributes?.[DELAY_ATTRIBUTE]?.StringValue)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      "3600000",
    ]);
    await conn.close();
  });

  it("delivers no sooner than the delay, and a message sent after it without one first", async () => {
    const { conn, backend } = await connectSqs(prefix, { waitTimeSeconds: 1 });
    await declare(backend, "delayed");
    const start = Date.now();
    await send(backend, "delayed", "late", { delay: 1200 });
    await send(backend, "delayed", "now");
    const seen = await collect(backend, "delayed", 2);
    expect(seen.map((s) => s.body)).toEqual(["now", "late"]);
    const late = seen[1];
    expect(late?.at).toBeGreaterThanOrEqual(start + 1200);
    expect(late?.at).toBeLessThanOrEqual(start + lateBound(1200));
    expect(late?.info).toMatchObject({ deliveryCount: 1, redelivered: false });
    await conn.close();
  });

  it("holds a delay past the native maximum back by re-sent copies: never early, counted once, nothing left", async () => {
    // maxNativeDelay 1: what takes 15-minute steps on SQS takes 1-second ones here.
    const { conn, backend } = await connectSqs(prefix, { waitTimeSeconds: 1, maxNativeDelay: 1 });
    await declare(backend, "long");
    const sent = recordSends(backend.sendClient);
    const start = Date.now();
    await send(backend, "long", "long", { delay: 3300 });
    await send(backend, "long", "short", { delay: 1000 }); // sent after, due before
    const seen = await collect(backend, "long", 2);
    expect(seen.map((s) => s.body)).toEqual(["short", "long"]);
    const long = seen[1];
    expect(long?.at).toBeGreaterThanOrEqual(start + 3300);
    expect(long?.at).toBeLessThanOrEqual(start + lateBound(3300));
    // The receives that found it early only held it back: this is its first delivery.
    expect(long?.info).toMatchObject({ deliveryCount: 1, redelivered: false });
    // Held by copies: each carries the due time and at most maxNativeDelay seconds of SQS delay.
    const copies = sent.flatMap((s) => s.Entries ?? []).filter((e) => e.MessageBody === "long");
    expect(copies.length).toBeGreaterThanOrEqual(3); // sent, then re-sent at least twice
    for (const copy of copies) expect(copy.DelaySeconds).toBe(1);
    // Every held copy's original was deleted once the copy was in.
    expect(await held(backend, "long")).toBe(0);
    await conn.close();
  });

  it("get() returns null while the message is held back, and the message once it is due", async () => {
    const { conn, backend } = await connectSqs(prefix, { maxNativeDelay: 1 });
    await declare(backend, "get-later");
    const start = Date.now();
    await send(backend, "get-later", "later", { delay: 2500 });
    let got = await backend.get("get-later", { noAck: true });
    const deadline = start + lateBound(2500);
    while (got === null && Date.now() < deadline)
      got = await backend.get("get-later", { noAck: true });
    const at = Date.now();
    expect(got && Buffer.from(got.message.body).toString()).toBe("later");
    expect(at).toBeGreaterThanOrEqual(start + 2500);
    expect(got?.info.deliveryCount).toBe(1);
    await conn.close();
  });
});

describe("delays on a FIFO queue", () => {
  it("holds the message back until due; its group waits behind it, other groups do not", async () => {
    const { conn, backend } = await connectSqs(prefix, { waitTimeSeconds: 1 });
    await declare(backend, "groups.fifo");
    const start = Date.now();
    await send(backend, "groups.fifo", "a1", { groupId: "a", delay: 1500 });
    await send(backend, "groups.fifo", "a2", { groupId: "a" });
    await send(backend, "groups.fifo", "b1", { groupId: "b" });
    const seen = await collect(backend, "groups.fifo", 3);
    // Order within a group wins over delays: a2 is not delivered before a1.
    expect(seen.map((s) => s.body)).toEqual(["b1", "a1", "a2"]);
    const a1 = seen[1];
    expect(a1?.at).toBeGreaterThanOrEqual(start + 1500);
    expect(a1?.at).toBeLessThanOrEqual(start + lateBound(1500));
    expect(seen.map((s) => [s.info.groupId, s.info.deliveryCount, s.info.redelivered])).toEqual([
      ["b", 1, false],
      ["a", 1, false], // SQS counted the hold's receive too: left out
      ["a", 1, false],
    ]);
    expect(await held(backend, "groups.fifo")).toBe(0);
    await conn.close();
  });

  it("takes one hold per maxHold for a longer delay, and counts none of them", async () => {
    const { conn, backend } = await connectSqs(prefix, { waitTimeSeconds: 1, maxHold: 2 });
    await declare(backend, "hops.fifo");
    const start = Date.now();
    await send(backend, "hops.fifo", "later", { delay: 5000 });
    let first = true;
    const seen = await collect(backend, "hops.fifo", 2, {
      settle: (d) => {
        const requeue = first;
        first = false;
        return d.reject(requeue); // requeued once, then deleted
      },
    });
    expect(seen[0]?.at).toBeGreaterThanOrEqual(start + 5000);
    expect(seen[0]?.at).toBeLessThanOrEqual(start + lateBound(5000));
    expect(seen.map((s) => [s.info.deliveryCount, s.info.redelivered])).toEqual([
      [1, false],
      [2, true],
    ]);
    await conn.close();
  });

  it("refuses a delay that ends past the queue's retention period (SQS would delete the message)", async () => {
    const { conn, backend } = await connectSqs(prefix);
    await declare(backend, "short-lived.fifo", { "x-sqs-MessageRetentionPeriod": "60" });
    const refused = send(backend, "short-lived.fifo", "too late", { delay: 60_000 });
    await expect(refused).rejects.toBeInstanceOf(UnsupportedFeatureError);
    await expect(refused).rejects.toThrow(/MessageRetentionPeriod.*nothing was sent/);
    await send(backend, "short-lived.fifo", "in time", { delay: 59_000 });
    await conn.close();
  });

  it("purge leaves a message that is not due yet (not on the queue yet, as in AMQP)", async () => {
    const { conn, backend } = await connectSqs(prefix, { waitTimeSeconds: 1 });
    await declare(backend, "purge.fifo");
    await send(backend, "purge.fifo", "later", { groupId: "a", delay: 1500 });
    await send(backend, "purge.fifo", "now", { groupId: "b" });
    expect(await backend.purgeQueue("purge.fifo")).toBe(1);
    const seen = await collect(backend, "purge.fifo", 1);
    expect(seen.map((s) => [s.body, s.info.deliveryCount])).toEqual([["later", 1]]);
    expect(await drain(backend, "purge.fifo")).toEqual([]);
    await conn.close();
  });
});
