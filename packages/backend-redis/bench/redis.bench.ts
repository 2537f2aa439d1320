/**
 * Redis: carrot beside raw ioredis written as a skilled user would, doing
 * the same Redis work, in one process: 256-byte JSON bodies, 1000 sends in
 * flight, every entry stored with carrot's envelope beside its body (the
 * very bytes carrot writes, read back from an entry carrot stored).
 *
 * - publish: raw sends each window as calls of one Lua script of at most
 *   256 messages (body and envelope each), as carrot batches a tick's
 *   publishes; for the fan-out the same script adds each message to all 10
 *   streams. BullMQ's `addBulk` of each window stands beside it: different
 *   work (a job, not a message), what a Node user might reach for instead.
 * - consume: XREADGROUP COUNT 100, the batch's XACK + XDEL pipelined with
 *   the next read: one round trip per batch.
 *
 *   npx -y pnpm@10.34.9 bench redis
 *
 * `CARROT_REDIS_URL` picks the server (default redis://127.0.0.1:6379),
 * `BENCH_COUNT` the number of messages per run, `BENCH_ROUNDS` the runs per side.
 */
import { randomUUID } from "node:crypto";
import { redisBackend } from "@carrot/backend-redis";
import {
  Connection,
  Consumer,
  Publisher,
  type PublisherOptions,
  registerBackend,
} from "@carrot/core";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import {
  compareRates,
  type Sample,
  type Scenario,
  sides,
  startClock,
  watchBroker,
} from "../../../bench/compare.js";
import { payloadOfSize, timeCarrotSends } from "../../../bench/payload.js";

const BASE_URL = process.env.CARROT_REDIS_URL ?? "redis://127.0.0.1:6379";
watchBroker(BASE_URL, 6379);
/**
 * Messages per run: BENCH_COUNT, else the scenario's own, enough for half a
 * second or more of its fastest side. At 30,000 a publish run lasted a tenth
 * of a second, which measured carrot before its code was warm more than the
 * steady state a service runs in: CPU µs per message raw 2.7, carrot 4.7
 * (ratio 0.70); at 200,000 in the same bench on the same machine, 2.7 and
 * 3.2 (0.96; carrot's first two rounds 4.4 and 5.0, its next four 2.9 to
 * 3.2), in another run 3.5 and 4.8 (0.86). One process publishing
 * 100,000-message rounds after 600,000 of warm-up: raw 2.9, carrot 3.4
 * (medians of 8 rounds each).
 */
const count = (fallback: number) => Number(process.env.BENCH_COUNT ?? fallback);
const BODY = 256;
const WINDOW = 1000;
const FANOUT = 10;
const GROUP = "carrot";
/** Messages per script call: carrot's bound (publish-batcher.ts). */
const SCRIPT_BATCH = 256;
const PREFETCH = 100;

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
      // In slices: BullMQ leaves a key per job, too many for one call's arguments.
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    }
    redis.disconnect();
  }
}

const stream = (s: Setup, queue: string) => `{${s.prefix}:${queue}}:stream`;

/** The envelope carrot stores beside the body for a send with `options`, read from Redis. */
function carrotEnvelope(queueCount: number, options: (s: Setup) => PublisherOptions) {
  return withSetup(queueCount, async (s) => {
    const connection = new Connection(s.url);
    await new Publisher(connection, options(s)).send(payload(0));
    await connection.close();
    const redis = new Redis(BASE_URL);
    const [entry] = await redis.xrange(stream(s, "q0"), "-", "+", "COUNT", 1);
    redis.disconnect();
    const fields = entry?.[1] ?? [];
    const envelope = fields[fields.indexOf("m") + 1];
    if (!envelope || fields.indexOf("m") < 0) throw new Error("carrot stored no envelope");
    return envelope;
  });
}

// KEYS: the streams. ARGV: body, envelope per message. Adds each message to every stream.
const PUBLISH = `
for i = 1, #ARGV, 2 do
  for k = 1, #KEYS do
    redis.call('XADD', KEYS[k], '*', 'b', ARGV[i], 'm', ARGV[i + 1])
  end
end
return #ARGV / 2
`;

interface RawRedis extends Redis {
  rawPublish(numKeys: number, ...args: (string | Buffer)[]): Promise<number>;
}

/**
 * Raw: each window goes out as script calls of at most SCRIPT_BATCH
 * messages, all in flight at once (one socket write for the window); each
 * call's reply says how many messages it stored.
 */
async function rawPublish(
  s: Setup,
  queues: string[],
  envelope: string,
  count: number,
): Promise<Sample> {
  const redis = new Redis(BASE_URL) as RawRedis;
  redis.defineCommand("rawPublish", { lua: PUBLISH });
  await redis.ping();
  const keys = queues.map((queue) => stream(s, queue));
  const stop = startClock();
  for (let start = 0; start < count; start += WINDOW) {
    const calls: Promise<void>[] = [];
    const end = Math.min(count, start + WINDOW);
    for (let from = start; from < end; from += SCRIPT_BATCH) {
      const to = Math.min(end, from + SCRIPT_BATCH);
      const args: (string | Buffer)[] = [];
      for (let n = from; n < to; n++) args.push(Buffer.from(JSON.stringify(payload(n))), envelope);
      calls.push(
        redis.rawPublish(keys.length, ...keys, ...args).then((stored) => {
          if (stored !== to - from) throw new Error(`stored ${stored} of ${to - from}`);
        }),
      );
    }
    await Promise.all(calls);
  }
  const sample = stop();
  redis.disconnect();
  return sample;
}

/** BullMQ's addBulk of each window: jobs, not messages (different work). */
async function bullmqAddBulk(s: Setup, count: number): Promise<Sample> {
  const { hostname, port } = new URL(BASE_URL);
  const queue = new Queue("bench", {
    connection: { host: hostname, port: Number(port || 6379) },
    prefix: `{${s.prefix}}:bull`,
  });
  await queue.waitUntilReady();
  const stop = startClock();
  for (let start = 0; start < count; start += WINDOW) {
    const jobs = [];
    for (let n = start; n < Math.min(count, start + WINDOW); n++) {
      jobs.push({ name: "m", data: payload(n) });
    }
    await queue.addBulk(jobs);
  }
  const sample = stop();
  await queue.close();
  return sample;
}

interface LooseStreams {
  xreadgroupBuffer(...args: (string | number)[]): unknown;
  xack(...args: (string | Buffer)[]): unknown;
  xdel(...args: (string | Buffer)[]): unknown;
}

type ReadReply = [Buffer, [Buffer, Buffer[]][]][] | null;

/** Raw: XREADGROUP COUNT 100, each batch's XACK + XDEL pipelined with the next read. */
async function rawConsume(s: Setup, queue: string, count: number): Promise<Sample> {
  const redis = new Redis(BASE_URL);
  await redis.ping();
  const key = stream(s, queue);
  let received = 0;
  let check = 0;
  let toAck: Buffer[] = [];
  const stop = startClock();
  while (received < count) {
    const pipeline = redis.pipeline();
    const loose = pipeline as unknown as LooseStreams;
    if (toAck.length > 0) {
      loose.xack(key, GROUP, ...toAck);
      loose.xdel(key, ...toAck);
    }
    loose.xreadgroupBuffer(
      "GROUP",
      GROUP,
      "raw",
      "COUNT",
      PREFETCH,
      "BLOCK",
      1000,
      "STREAMS",
      key,
      ">",
    );
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const reply = replies.at(-1)![1] as ReadReply;
    const entries = reply?.[0]?.[1] ?? [];
    toAck = entries.map(([id]) => id);
    for (const [, fields] of entries) {
      check += (JSON.parse(fields[1]!.toString("utf8")) as { id: number }).id & 1;
    }
    received += entries.length;
  }
  await redis
    .pipeline()
    .xack(key, GROUP, ...toAck)
    .xdel(key, ...toAck)
    .exec();
  const sample = stop();
  redis.disconnect();
  if (check < 0) throw new Error("unreachable");
  return sample;
}

async function carrotConsume(s: Setup, queue: string, count: number): Promise<Sample> {
  const connection = new Connection(s.url);
  const consumer = new Consumer<{ id: number }>(connection, { queue, prefetchCount: PREFETCH });
  let check = 0;
  consumer.registerCallback(async (data, message) => {
    check += data.id & 1;
    await message.ack();
  });
  await consumer.declare();
  const stop = startClock();
  await consumer.wait({ limit: count });
  const sample = stop();
  await consumer.close(); // lets the last callbacks' acks land before the connection goes
  await connection.close();
  if (check < 0) throw new Error("unreachable");
  return sample;
}

/** A side run in a fresh setup of `queueCount` queues. */
const inSetup =
  (queueCount: number, run: (setup: Setup) => Promise<Sample>) => (): Promise<Sample> =>
    withSetup(queueCount, run);

const scenarios: Record<string, Scenario> = {
  "redis publish to one queue (1000 in flight)": {
    title: "Redis publish to one queue, 1000 in flight",
    note: "none: both sides send a tick's messages as script calls of at most 256, with the same bytes; carrot's script also reads each queue's declaration and limits and the binding version.",
    run: async () => {
      const messages = count(200_000);
      const envelope = await carrotEnvelope(1, () => ({ routingKey: "q0" }));
      return compareRates(
        messages,
        sides(
          inSetup(1, (s) => rawPublish(s, ["q0"], envelope, messages)),
          inSetup(1, (s) => timeCarrotSends(s.url, { routingKey: "q0" }, messages, WINDOW, BODY)),
          {
            "bullmq addBulk": {
              differentWork: true,
              run: inSetup(1, (s) => bullmqAddBulk(s, messages)),
            },
          },
        ),
      );
    },
  },
  "redis publish fanned out to 10 queues": {
    title: "Redis publish fanned out to 10 queues, 1000 in flight",
    note: "none: both sides send one script call per batch that adds each message to the 10 streams; carrot's also reads each queue's declaration and limits and the binding version.",
    run: async () => {
      const messages = count(60_000);
      const fanout = (s: Setup): PublisherOptions => ({
        exchange: s.exchange,
        exchangeType: "fanout",
      });
      const envelope = await carrotEnvelope(FANOUT, fanout);
      return compareRates(
        messages,
        sides(
          inSetup(FANOUT, (s) => rawPublish(s, s.queues, envelope, messages)),
          inSetup(FANOUT, (s) => timeCarrotSends(s.url, fanout(s), messages, WINDOW, BODY)),
        ),
      );
    },
  },
  "redis consume+ack, prefetch 100": {
    title: "Redis consume + ack, prefetch 100",
    note: "waiting: carrot reads on one connection and acks on another, so its next read does not queue behind the last batch's acks (raw: one connection, the acks pipelined with the next read, one round trip per batch). Per message carrot does more: its ack script checks that the consumer still owns each entry.",
    run: async () => {
      const messages = count(60_000);
      const envelope = await carrotEnvelope(1, () => ({ routingKey: "q0" }));
      const filledThen = (consume: typeof rawConsume) =>
        inSetup(1, async (s) => {
          await rawPublish(s, ["q0"], envelope, messages);
          return consume(s, "q0", messages);
        });
      return compareRates(messages, sides(filledThen(rawConsume), filledThen(carrotConsume)));
    },
  },
};

export default scenarios;
