/**
 * Redis: carrot beside raw ioredis doing the same Redis work, in one process:
 * 256-byte JSON bodies, 1000 sends in flight. Raw publishes are XADDs sent
 * as one pipeline per window (for the fan-out a MULTI of 10 XADDs per
 * message, which is what atomic fan-out costs by hand); raw consumption is XREADGROUP COUNT 100 with XACK + XDEL
 * pipelined per batch. Each scenario prints messages/s for both and the ratio.
 *
 *   npx -y pnpm@10.34.9 bench redis
 *
 * `CARROT_REDIS_URL` picks the server (default redis://127.0.0.1:6379),
 * `BENCH_COUNT` the number of messages per run, `BENCH_ROUNDS` the runs per side
 * (medians compared).
 */
import { randomUUID } from "node:crypto";
import { redisBackend } from "@carrot/backend-redis";
import { Connection, Consumer, registerBackend } from "@carrot/core";
import { Redis } from "ioredis";
import { compareSides, type Figures, type Side } from "../../../bench/compare.js";
import { payloadOfSize, timeCarrotSends } from "../../../bench/payload.js";

const BASE_URL = process.env.CARROT_REDIS_URL ?? "redis://127.0.0.1:6379";
const COUNT = Number(process.env.BENCH_COUNT ?? 50_000);
const BODY = 256;
const WINDOW = 1000;
const FANOUT = 10;
const GROUP = "carrot";

registerBackend("redis", redisBackend);

function payload(n: number): { id: number; data: string } {
  return payloadOfSize(BODY, n);
}

interface Setup {
  prefix: string;
  url: string;
  queues: string[];
  exchange: string;
}

/** A fresh prefix with `queues` queues bound to a fanout exchange; all keys deleted after. */
async function withSetup<T>(queueCount: number, run: (setup: Setup) => Promise<T>): Promise<T> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const url = `${BASE_URL}?prefix=${prefix}`;
  const setup: Setup = {
    prefix,
    url,
    exchange: "bench",
    queues: Array.from({ length: queueCount }, (_, i) => `q${i}`),
  };
  const admin = new Connection(url);
  await admin.declareExchange({ name: setup.exchange, type: "fanout" });
  for (const queue of setup.queues) {
    await admin.declareQueue({ name: queue });
    await admin.bindQueue({ queue, exchange: setup.exchange, routingKey: "" });
  }
  await admin.close();
  try {
    return await run(setup);
  } finally {
    const redis = new Redis(BASE_URL);
    for (const pattern of [`{${prefix}}*`, `{${prefix}:*`]) {
      const keys = await redis.keys(pattern);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
  }
}

const stream = (s: Setup, queue: string) => `{${s.prefix}:${queue}}:stream`;

/** The envelope carrot's Publisher stores beside the body (exchange, key, content type, headers, properties). */
const ENVELOPE = JSON.stringify({
  e: "",
  k: "q0",
  c: "application/json",
  n: "utf-8",
  h: {},
  p: { deliveryMode: 2 },
});

/**
 * Raw: each window of WINDOW messages goes out as one pipeline (one socket
 * write): an XADD per message, or for a fan-out a MULTI ... EXEC block of
 * one XADD per queue per message.
 */
async function rawPublish(s: Setup, queues: string[], count: number): Promise<number> {
  const redis = new Redis(BASE_URL);
  await redis.ping();
  const started = performance.now();
  for (let start = 0; start < count; start += WINDOW) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(count, start + WINDOW); i++) {
      const body = Buffer.from(JSON.stringify(payload(i)));
      if (queues.length === 1) {
        pipeline.xadd(stream(s, queues[0]!), "*", "b", body, "m", ENVELOPE);
      } else {
        pipeline.call("MULTI");
        for (const queue of queues) pipeline.xadd(stream(s, queue), "*", "b", body, "m", ENVELOPE);
        pipeline.call("EXEC");
      }
    }
    const replies = await pipeline.exec();
    const failed = replies?.find(([error]) => error);
    if (failed) throw failed[0];
  }
  const ms = performance.now() - started;
  redis.disconnect();
  return ms;
}

/** Raw: XREADGROUP COUNT 100 BLOCK, then XACK + XDEL of the batch, pipelined. */
async function rawConsume(s: Setup, queue: string, count: number): Promise<number> {
  const redis = new Redis(BASE_URL);
  const key = stream(s, queue);
  let received = 0;
  let check = 0;
  const started = performance.now();
  while (received < count) {
    const reply = (await redis.xreadgroupBuffer(
      "GROUP",
      GROUP,
      "raw",
      "COUNT",
      100,
      "BLOCK",
      1000,
      "STREAMS",
      key,
      ">",
    )) as [Buffer, [Buffer, Buffer[]][]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    const ids = entries.map(([id]) => id);
    for (const [, fields] of entries) {
      check += (JSON.parse(fields[1]!.toString("utf8")) as { id: number }).id & 1;
    }
    if (ids.length > 0)
      await redis
        .pipeline()
        .xack(key, GROUP, ...ids)
        .xdel(key, ...ids)
        .exec();
    received += entries.length;
  }
  const ms = performance.now() - started;
  redis.disconnect();
  if (check < 0) throw new Error("unreachable");
  return ms;
}

async function carrotConsume(s: Setup, queue: string, count: number): Promise<number> {
  const connection = new Connection(s.url);
  const consumer = new Consumer<{ id: number }>(connection, { queue, prefetchCount: 100 });
  let check = 0;
  consumer.registerCallback(async (data, message) => {
    check += data.id & 1;
    await message.ack();
  });
  await consumer.declare();
  const started = performance.now();
  await consumer.wait({ limit: count });
  const ms = performance.now() - started;
  await consumer.close(); // lets the last callbacks' acks land before the connection goes
  await connection.close();
  if (check < 0) throw new Error("unreachable");
  return ms;
}

/** One side's run in a fresh setup of `queueCount` queues. */
function compare(queueCount: number, run: (side: Side, setup: Setup) => Promise<number>) {
  return compareSides(COUNT, (side) => withSetup(queueCount, (setup) => run(side, setup)));
}

const scenarios: Record<string, () => Promise<Figures>> = {
  "redis publish to one queue (1000 in flight)": () =>
    compare(1, (side, s) =>
      side === "raw"
        ? rawPublish(s, ["q0"], COUNT)
        : timeCarrotSends(s.url, { routingKey: "q0" }, COUNT, WINDOW, BODY),
    ),
  "redis publish fanned out to 10 queues": () =>
    compare(FANOUT, (side, s) =>
      side === "raw"
        ? rawPublish(s, s.queues, COUNT)
        : timeCarrotSends(
            s.url,
            { exchange: s.exchange, exchangeType: "fanout" },
            COUNT,
            WINDOW,
            BODY,
          ),
    ),
  "redis consume+ack, prefetch 100": () =>
    compare(1, async (side, s) => {
      await rawPublish(s, ["q0"], COUNT);
      return side === "raw" ? rawConsume(s, "q0", COUNT) : carrotConsume(s, "q0", COUNT);
    }),
};

export default scenarios;
