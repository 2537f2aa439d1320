/**
 * Memory backend: end-to-end throughput (publish, consume, ack) of 256-byte
 * JSON messages beside the bare cost of JSON-encoding and decoding the same
 * bodies, and the peak RSS with 100k messages queued.
 * Each scenario runs in its own process (see run.ts) so peaks do not mix.
 */
import { randomUUID } from "node:crypto";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { payloadOfSize, rate, sendInWindows } from "./payload.js";

const BODY = 256;

async function endToEnd(count: number): Promise<Record<string, number>> {
  const connection = new Connection(`memory://bench-${randomUUID()}`);
  const consumer = new Consumer(connection, { queue: "bench", prefetchCount: 1000 });
  let received = 0;
  consumer.registerCallback(async (_data, message) => {
    received++;
    await message.ack();
  });
  await consumer.declare();
  const publisher = new Publisher(connection, { routingKey: "bench" });
  const started = performance.now();
  const consumed = consumer.wait({ limit: count });
  await sendInWindows(count, 1000, (n) => publisher.send(payloadOfSize(BODY, n)));
  await consumed;
  const ms = performance.now() - started;
  await connection.close();
  if (received !== count) throw new Error(`received ${received} of ${count}`);
  return { messages: count, ms: Math.round(ms), msgsPerSec: rate(count, ms) };
}

function jsonOnly(count: number): Record<string, number> {
  const started = performance.now();
  let check = 0;
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(JSON.stringify(payloadOfSize(BODY, i)), "utf8");
    check += (JSON.parse(body.toString("utf8")) as { id: number }).id & 1;
  }
  const ms = performance.now() - started;
  return { messages: count, ms: Math.round(ms), msgsPerSec: rate(count, ms), check };
}

async function queuedRss(count: number): Promise<Record<string, number>> {
  const before = process.memoryUsage().rss;
  const connection = new Connection(`memory://bench-${randomUUID()}`);
  await new Consumer(connection, { queue: "deep" }).declare();
  const publisher = new Publisher(connection, { routingKey: "deep" });
  await sendInWindows(count, 1000, (n) => publisher.send(payloadOfSize(BODY, n)));
  const queued = await connection.purgeQueue("deep");
  if (queued !== count) throw new Error(`queued ${queued} of ${count}`);
  await connection.close();
  return {
    messages: count,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    baselineRssMiB: Math.round(before / 2 ** 20),
  };
}

const scenarios: Record<string, () => Promise<Record<string, number>> | Record<string, number>> = {
  "memory end-to-end (publish, consume, ack)": () =>
    endToEnd(Number(process.env.BENCH_COUNT ?? 200_000)),
  "JSON encode+decode only": () => jsonOnly(Number(process.env.BENCH_COUNT ?? 200_000)),
  "memory peak RSS, 100k queued": () => queuedRss(100_000),
};

export default scenarios;
