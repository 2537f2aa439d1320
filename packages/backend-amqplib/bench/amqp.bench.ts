/**
 * RabbitMQ: carrot beside raw amqplib written as a skilled user would, and
 * beside amqp-connection-manager and rascal, in one process: 256-byte JSON
 * bodies, persistent messages, a durable queue: a classic one, and a quorum
 * one for consumption (see `consumeAt`).
 *
 * The raw side does what carrot does, by hand: `noDelay` on the socket,
 * the tick's frames corked into one socket write, confirm channels with
 * carrot's write high-water mark, and on consumption one `multiple` ack per
 * event-loop turn. The peers run as their users would write them (their
 * defaults, the same socket option), each acking every message.
 *
 *   npx -y pnpm@10.34.9 bench amqp
 *
 * `CARROT_AMQP_URL` picks the broker (default amqp://guest:guest@127.0.0.1:5672),
 * `BENCH_COUNT` the number of messages per run, `BENCH_ROUNDS` the runs per side.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { Duplex } from "node:stream";
import { amqplibBackend } from "@carrot/backend-amqplib";
import { Connection, Consumer, Publisher, registerBackend } from "@carrot/core";
import amqpConnectionManager from "amqp-connection-manager";
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  connect,
  type Message,
} from "amqplib";
import rascal from "rascal";
import {
  compareLatency,
  compareRates,
  type LatencySample,
  type Sample,
  type Scenario,
  sides,
  startClock,
  watchBroker,
} from "../../../bench/compare.js";
import { payloadOfSize, sendInWindows, timeCarrotSends } from "../../../bench/payload.js";

const URL = process.env.CARROT_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const BODY = 256;
const WINDOW = 1000;
/** What carrot gives its confirm channels (publish-confirms.ts). */
const WRITE_HIGH_WATER_MARK = 2048;
/** The properties carrot's Publisher sends with a JSON body. */
const PROPERTIES = { contentType: "application/json", contentEncoding: "utf-8", deliveryMode: 2 };

registerBackend("amqp", amqplibBackend);
watchBroker(URL, 5672);

function payload(n: number): { id: number; data: string } {
  return payloadOfSize(BODY, n);
}

/**
 * A raw connection with carrot's socket settings: `noDelay`, and the frames
 * written in one tick corked into one socket write (amqplib otherwise makes
 * a system call per frame). Nothing waits past the end of the tick.
 */
async function rawConnect(): Promise<ChannelModel> {
  const model = await connect(URL, { noDelay: true });
  const socket = (model.connection as unknown as { stream: Duplex }).stream;
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Duplex, ...args: Parameters<Duplex["write"]>): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Duplex["write"];
  return model;
}

/** What a quorum queue is declared with, in amqplib's terms and in carrot's. */
const QUORUM = { "x-queue-type": "quorum" };
const CARROT_QUORUM = { queueType: "quorum" } as const;

/** Runs `run` on a new durable queue (classic, or with `args`), deleted after it. */
async function withQueue<T>(
  run: (queue: string) => Promise<T>,
  args?: Record<string, unknown>,
): Promise<T> {
  const queue = `bench.${randomUUID()}`;
  const admin = await connect(URL);
  const channel = await admin.createChannel();
  await channel.assertQueue(queue, { durable: true, arguments: args });
  try {
    return await run(queue);
  } finally {
    await channel.deleteQueue(queue);
    await admin.close();
  }
}

/**
 * One window of confirmed publishes: a counter of confirms, not a promise
 * per message, and a wait for 'drain' whenever amqplib's buffer is full.
 */
async function publishWindow(
  channel: ConfirmChannel,
  queue: string,
  from: number,
  to: number,
): Promise<void> {
  let pending = to - from;
  let failed: Error | undefined;
  let done!: () => void;
  const confirmed = new Promise<void>((resolve) => {
    done = resolve;
  });
  const onConfirm = (error: unknown) => {
    if (error) failed ??= error instanceof Error ? error : new Error(`nacked: ${String(error)}`);
    if (--pending === 0) done();
  };
  for (let n = from; n < to; n++) {
    const body = Buffer.from(JSON.stringify(payload(n)));
    if (!channel.publish("", queue, body, PROPERTIES, onConfirm)) await once(channel, "drain");
  }
  await confirmed;
  if (failed) throw failed;
}

/** Publishes `count` messages with confirms, WINDOW in flight. */
async function rawPublish(queue: string, count: number): Promise<Sample> {
  const connection = await rawConnect();
  const channel = await connection.createConfirmChannel({ highWaterMark: WRITE_HIGH_WATER_MARK });
  const stop = startClock();
  for (let start = 0; start < count; start += WINDOW) {
    await publishWindow(channel, queue, start, Math.min(count, start + WINDOW));
  }
  const sample = stop();
  await connection.close();
  return sample;
}

/**
 * Acks the deliveries of one event-loop turn with one `multiple` ack of the
 * last (deliveries on a channel are acked in order here, so it covers all).
 */
function turnAcker(channel: Channel): (message: Message) => void {
  let last: Message | undefined;
  const flush = () => {
    channel.ack(last!, true);
    last = undefined;
  };
  return (message) => {
    if (last === undefined) setImmediate(flush);
    last = message;
  };
}

async function rawConsume(queue: string, count: number, prefetch: number): Promise<Sample> {
  const connection = await rawConnect();
  const channel = await connection.createChannel();
  await channel.prefetch(prefetch);
  const ack = turnAcker(channel);
  let received = 0;
  let check = 0;
  const stop = startClock();
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (message) => {
      if (!message) return;
      check += (JSON.parse(message.content.toString("utf8")) as { id: number }).id & 1;
      ack(message);
      if (++received === count) setImmediate(resolve); // after the last turn's ack is written
    });
  });
  const sample = stop();
  await connection.close();
  if (check < 0) throw new Error("unreachable");
  return sample;
}

/** Consumes the quorum queue `consumeAt` filled: carrot's consumer declares it, so as a quorum queue too. */
async function carrotConsume(queue: string, count: number, prefetch: number): Promise<Sample> {
  const connection = new Connection(URL);
  const consumer = new Consumer<{ id: number }>(connection, {
    queue,
    prefetchCount: prefetch,
    queueArguments: CARROT_QUORUM,
  });
  let check = 0;
  consumer.registerCallback(async (data, message) => {
    check += data.id & 1;
    await message.ack();
  });
  await consumer.declare();
  const stop = startClock();
  await consumer.wait({ limit: count });
  const sample = stop();
  await connection.close();
  if (check < 0) throw new Error("unreachable");
  return sample;
}

/** amqp-connection-manager as its README shows it: a confirm channel wrapper, JSON content. */
function manager() {
  return amqpConnectionManager.connect([URL], { connectionOptions: { noDelay: true } });
}

async function managerPublish(queue: string, count: number): Promise<Sample> {
  const connection = manager();
  const channel = connection.createChannel({ json: true, confirm: true });
  await channel.waitForConnect();
  const stop = startClock();
  await sendInWindows(count, WINDOW, (n) =>
    channel.sendToQueue(queue, payload(n), { contentType: "application/json", persistent: true }),
  );
  const sample = stop();
  await channel.close();
  await connection.close();
  return sample;
}

async function managerConsume(queue: string, count: number, prefetch: number): Promise<Sample> {
  const connection = manager();
  const channel = connection.createChannel();
  await channel.waitForConnect();
  let check = 0;
  let received = 0;
  const stop = startClock();
  await new Promise<void>((resolve) => {
    void channel.consume(
      queue,
      (message) => {
        check += (JSON.parse(message.content.toString("utf8")) as { id: number }).id & 1;
        channel.ack(message);
        if (++received === count) resolve();
      },
      { prefetch },
    );
  });
  const sample = stop();
  await channel.close();
  await connection.close();
  if (check < 0) throw new Error("unreachable");
  return sample;
}

/** rascal with its defaults (confirmed, mandatory, persistent publications), on the queue the bench made. */
function rascalBroker(queue: string, prefetch = 10) {
  return rascal.BrokerAsPromised.create(
    rascal.withDefaultConfig({
      vhosts: {
        "/": {
          connection: { url: URL, socketOptions: { noDelay: true } },
          queues: { [queue]: { assert: false, check: true } },
        },
      },
      publications: { bench: { vhost: "/", queue } },
      subscriptions: { bench: { vhost: "/", queue, prefetch } },
    }),
  );
}

async function rascalPublish(queue: string, count: number): Promise<Sample> {
  const broker = await rascalBroker(queue);
  broker.on("error", () => {});
  const stop = startClock();
  await sendInWindows(count, WINDOW, async (n) => {
    const publication = await broker.publish("bench", payload(n));
    await new Promise<void>((resolve, reject) => {
      publication.on("success", () => resolve()).on("error", reject);
    });
  });
  const sample = stop();
  await broker.shutdown();
  return sample;
}

async function rascalConsume(queue: string, count: number, prefetch: number): Promise<Sample> {
  const broker = await rascalBroker(queue, prefetch);
  broker.on("error", () => {});
  let check = 0;
  let received = 0;
  const stop = startClock();
  await new Promise<void>((resolve, reject) => {
    void broker.subscribe("bench").then((subscription) =>
      subscription
        .on("message", (_message: Message, content: { id: number }, ackOrNack: () => void) => {
          check += content.id & 1;
          ackOrNack();
          if (++received === count) resolve();
        })
        .on("error", reject),
    );
  });
  const sample = stop();
  await broker.shutdown();
  if (check < 0) throw new Error("unreachable");
  return sample;
}

/** The send time of the message that readies carrot's side of the latency run. */
const SET_UP = -1;

/** End-to-end latency at a fixed rate: send time to receive time, p50 and p99 in ms. */
async function latency(
  side: "raw" | "carrot",
  queue: string,
  perSecond: number,
  seconds: number,
): Promise<LatencySample> {
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
    const ack = turnAcker(consuming);
    await consuming.consume(queue, (message) => {
      if (!message) return;
      record((JSON.parse(message.content.toString("utf8")) as { at: number }).at);
      ack(message);
    });
    const publishing = await connection.createConfirmChannel({
      highWaterMark: WRITE_HIGH_WATER_MARK,
    });
    let nacked: unknown;
    const onConfirm = (error: unknown) => {
      nacked ??= error ?? undefined;
    };
    send = (n) =>
      publishing.publish(
        "",
        queue,
        Buffer.from(JSON.stringify({ ...payload(n), at: performance.now() })),
        PROPERTIES,
        onConfirm,
      );
    close = async () => {
      await publishing.waitForConfirms();
      await new Promise((resolve) => setImmediate(resolve)); // the last turn's ack is written
      await connection.close();
      if (nacked) throw nacked;
    };
  } else {
    const connection = new Connection(URL);
    const consumer = new Consumer<{ at: number }>(connection, { queue, prefetchCount: 1000 });
    let ready!: () => void;
    const readied = new Promise<void>((resolve) => {
      ready = resolve;
    });
    consumer.registerCallback(async (data, message) => {
      if (data.at === SET_UP) ready();
      else record(data.at);
      await message.ack();
    });
    await consumer.declare();
    void consumer.wait();
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    // Ready before the clock starts, as raw's side is (subscribed, its publish
    // channel open): one message through both, not timed.
    await publisher.send({ ...payload(0), at: SET_UP });
    await readied;
    send = (n) => void publisher.send({ ...payload(n), at: performance.now() });
    close = () => connection.close();
  }
  const interval = 1000 / perSecond;
  const stop = startClock();
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
  const sample = stop();
  await close();
  samples.sort((a, b) => a - b);
  const at = (q: number) => Math.round(samples[Math.floor(q * (samples.length - 1))]! * 100) / 100;
  return { ...sample, p50: at(0.5), p99: at(0.99) };
}

/**
 * Consumption of a filled quorum queue. Peers at prefetch 100 only (the
 * bench's time goes into filling queues).
 *
 * Not a classic queue: RabbitMQ 3.10's classic queue delivered a backlog at
 * one of two paces, decided by the fill and not by the client. Raw amqplib
 * alone, 20,000 messages, prefetch 100, 8 fills: 17,700 to 61,800/s, the
 * broker spending 50 to 60 µs of CPU per message in the slow rounds and 17
 * to 19 in the fast ones; the queue process held 47.9 MB after every fill
 * that was then delivered fast, 20 to 33 MB after the slow ones (its heap,
 * collected over and over while it delivers). A round's side drew its pace
 * by lot, which decided the median more than either client. A quorum queue
 * (the durable queue RabbitMQ recommends) delivered the same backlog at
 * 35,500 to 56,700/s in 10 fills, the broker at 15 to 20 µs per message in
 * every one.
 */
function consumeAt(prefetch: number, withPeers: boolean) {
  const filledThen =
    (consume: (queue: string, count: number, prefetch: number) => Promise<Sample>) => () =>
      withQueue(async (queue) => {
        await rawPublish(queue, COUNT);
        return consume(queue, COUNT, prefetch);
      }, QUORUM);
  return () =>
    compareRates(
      COUNT,
      sides(
        filledThen(rawConsume),
        filledThen(carrotConsume),
        withPeers
          ? {
              "amqp-connection-manager": filledThen(managerConsume),
              rascal: filledThen(rascalConsume),
            }
          : {},
      ),
    );
}

const CONSUME_NOTE =
  "none: both sides write one `multiple` ack per event-loop turn; carrot adds a basic.qos round trip after each turn's acks (its proof that RabbitMQ has them). Above 1 is the broker's noise.";

const onQueue = (publish: (queue: string) => Promise<Sample>) => () => withQueue(publish);

const scenarios: Record<string, Scenario> = {
  "amqp publish with confirms (1000 in flight)": {
    title: "RabbitMQ publish with confirms, 1000 in flight",
    note: "none: both sides write a tick's frames as one socket write and wait for the same confirms. RabbitMQ bounds this run (compare the CPU per message), so above 1 is the broker's noise.",
    run: () =>
      compareRates(
        COUNT,
        sides(
          onQueue((queue) => rawPublish(queue, COUNT)),
          onQueue((queue) =>
            timeCarrotSends(URL, { exchange: "", routingKey: queue }, COUNT, WINDOW, BODY),
          ),
          {
            "amqp-connection-manager": onQueue((queue) => managerPublish(queue, COUNT)),
            rascal: onQueue((queue) => rascalPublish(queue, COUNT)),
          },
        ),
      ),
  },
  "amqp consume+ack, prefetch 100": {
    title: "RabbitMQ consume + ack from a quorum queue, prefetch 100",
    note: CONSUME_NOTE,
    run: consumeAt(100, true),
  },
  "amqp consume+ack, prefetch 1000": {
    title: "RabbitMQ consume + ack from a quorum queue, prefetch 1000",
    note: CONSUME_NOTE,
    run: consumeAt(1000, false),
  },
  "amqp end-to-end latency at 2000 msgs/s": {
    title: "RabbitMQ end-to-end latency at 2,000 msgs/s",
    note: "the ratio is raw's p99 over carrot's: above 1, carrot's p99 is the lower. Neither side skips work the other does (the same corked writes and per-turn acks).",
    run: () =>
      compareLatency(10_000, (side) => withQueue((queue) => latency(side, queue, 2000, 5))),
  },
};

export default scenarios;
