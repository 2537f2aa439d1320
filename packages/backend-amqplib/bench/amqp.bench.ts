/**
 * RabbitMQ: carrot beside raw amqplib, in one process, same settings: 256-byte
 * JSON bodies, persistent messages, a durable queue. Each scenario prints
 * messages/s (or latency) for both and carrot's ratio to raw.
 *
 *   npx -y pnpm@10.34.9 bench amqp
 *
 * `CARROT_AMQP_URL` picks the broker (default amqp://guest:guest@127.0.0.1:5672),
 * `BENCH_COUNT` the number of messages per run, `BENCH_ROUNDS` the runs per side
 * (medians compared).
 */
import { randomUUID } from "node:crypto";
import { amqplibBackend } from "@carrot/backend-amqplib";
import { Connection, Consumer, Publisher, registerBackend } from "@carrot/core";
import { type ChannelModel, connect } from "amqplib";
import { alternateRounds, compareSides, type Figures } from "../../../bench/compare.js";
import { payloadOfSize, timeCarrotSends } from "../../../bench/payload.js";

const URL = process.env.CARROT_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const COUNT = Number(process.env.BENCH_COUNT ?? 50_000);
const BODY = 256;
const WINDOW = 1000;

registerBackend("amqp", amqplibBackend);

function payload(n: number): { id: number; data: string } {
  return payloadOfSize(BODY, n);
}

function rawConnect(): Promise<ChannelModel> {
  // The same socket option carrot sets, so the comparison is like for like.
  return connect(URL, { noDelay: true });
}

async function withQueue<T>(run: (queue: string) => Promise<T>): Promise<T> {
  const queue = `bench.${randomUUID()}`;
  const admin = await rawConnect();
  const channel = await admin.createChannel();
  await channel.assertQueue(queue, { durable: true });
  try {
    return await run(queue);
  } finally {
    await channel.deleteQueue(queue);
    await admin.close();
  }
}

/** Publishes `count` messages with confirms, WINDOW in flight, with raw amqplib. */
async function rawPublish(queue: string, count: number): Promise<number> {
  const connection = await rawConnect();
  const channel = await connection.createConfirmChannel();
  const started = performance.now();
  for (let start = 0; start < count; start += WINDOW) {
    const confirms: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + WINDOW); i++) {
      const body = Buffer.from(JSON.stringify(payload(i)));
      confirms.push(
        new Promise((resolve, reject) => {
          const writable = channel.publish(
            "",
            queue,
            body,
            { contentType: "application/json", contentEncoding: "utf-8", persistent: true },
            (error) => (error ? reject(error) : resolve()),
          );
          if (!writable) confirms.push(new Promise((drained) => channel.once("drain", drained)));
        }),
      );
    }
    await Promise.all(confirms);
  }
  const ms = performance.now() - started;
  await connection.close();
  return ms;
}

async function rawConsume(queue: string, count: number, prefetch: number): Promise<number> {
  const connection = await rawConnect();
  const channel = await connection.createChannel();
  await channel.prefetch(prefetch);
  let received = 0;
  let check = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (message) => {
      if (!message) return;
      check += (JSON.parse(message.content.toString("utf8")) as { id: number }).id & 1;
      channel.ack(message);
      if (++received === count) resolve();
    });
  });
  const ms = performance.now() - started;
  await connection.close();
  if (check < 0) throw new Error("unreachable");
  return ms;
}

async function carrotConsume(queue: string, count: number, prefetch: number): Promise<number> {
  const connection = new Connection(URL);
  const consumer = new Consumer<{ id: number }>(connection, { queue, prefetchCount: prefetch });
  let check = 0;
  consumer.registerCallback(async (data, message) => {
    check += data.id & 1;
    await message.ack();
  });
  await consumer.declare();
  const started = performance.now();
  await consumer.wait({ limit: count });
  const ms = performance.now() - started;
  await connection.close();
  if (check < 0) throw new Error("unreachable");
  return ms;
}

async function fill(queue: string, count: number): Promise<void> {
  await rawPublish(queue, count);
}

/** End-to-end latency at a fixed rate: send time to receive time, p50 and p99 in ms. */
async function latency(
  side: "raw" | "carrot",
  queue: string,
  perSecond: number,
  seconds: number,
): Promise<{ p50: number; p99: number }> {
  const total = perSecond * seconds;
  const samples: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const record = (sentAt: number) => {
    samples.push(performance.now() - sentAt);
    if (samples.length === total) done();
  };
  let send: (n: number) => void;
  let close: () => Promise<void>;
  if (side === "raw") {
    const connection = await rawConnect();
    const consuming = await connection.createChannel();
    await consuming.prefetch(1000);
    await consuming.consume(queue, (message) => {
      if (!message) return;
      record((JSON.parse(message.content.toString("utf8")) as { at: number }).at);
      consuming.ack(message);
    });
    const publishing = await connection.createConfirmChannel();
    send = (n) =>
      publishing.publish(
        "",
        queue,
        Buffer.from(JSON.stringify({ ...payload(n), at: performance.now() })),
        {
          contentType: "application/json",
          persistent: true,
        },
        () => {},
      );
    close = () => connection.close();
  } else {
    const connection = new Connection(URL);
    const consumer = new Consumer<{ at: number }>(connection, { queue, prefetchCount: 1000 });
    consumer.registerCallback(async (data, message) => {
      record(data.at);
      await message.ack();
    });
    await consumer.declare();
    void consumer.wait();
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    send = (n) => void publisher.send({ ...payload(n), at: performance.now() });
    close = () => connection.close();
  }
  const interval = 1000 / perSecond;
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1);
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await finished;
  await close();
  samples.sort((a, b) => a - b);
  const at = (q: number) => Math.round(samples[Math.floor(q * (samples.length - 1))]! * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}

function consumeAt(prefetch: number) {
  return () =>
    compareSides(COUNT, (side) =>
      withQueue(async (queue) => {
        await fill(queue, COUNT);
        return side === "raw"
          ? rawConsume(queue, COUNT, prefetch)
          : carrotConsume(queue, COUNT, prefetch);
      }),
    );
}

const scenarios: Record<string, () => Promise<Figures | Record<string, number>>> = {
  "amqp publish with confirms (1000 in flight)": () =>
    compareSides(COUNT, (side) =>
      withQueue((queue) =>
        side === "raw"
          ? rawPublish(queue, COUNT)
          : timeCarrotSends(URL, { exchange: "", routingKey: queue }, COUNT, WINDOW, BODY),
      ),
    ),
  "amqp consume+ack, prefetch 100": consumeAt(100),
  "amqp consume+ack, prefetch 1000": consumeAt(1000),
  "amqp end-to-end latency at 2000 msgs/s (ms, medians)": async () => {
    const { raw, carrot } = await alternateRounds((side) =>
      withQueue((queue) => latency(side, queue, 2000, 5)),
    );
    return { rawP50: raw.p50, rawP99: raw.p99, carrotP50: carrot.p50, carrotP99: carrot.p99 };
  },
};

export default scenarios;
