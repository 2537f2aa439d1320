/**
 * Memory backend: end-to-end throughput (publish, consume, ack) of 256-byte
 * JSON messages beside its limit, the same messages through an in-process
 * async queue with nothing but JSON encoding and decoding; and the peak RSS
 * with 100k messages queued. Each scenario runs in its own process (see
 * run.ts) so peaks do not mix.
 */
import { randomUUID } from "node:crypto";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { compareRates, type Sample, type Scenario, sides, startClock } from "./compare.js";
import { payloadOfSize, sendInWindows, timeRoundTrip } from "./payload.js";

const BODY = 256;
const WINDOW = 1000;
const COUNT = Number(process.env.BENCH_COUNT ?? 200_000);

async function carrot(count: number): Promise<Sample> {
  const connection = new Connection(`memory://bench-${randomUUID()}`);
  const consumer = new Consumer<{ id: number }>(connection, {
    queue: "bench",
    prefetchCount: WINDOW,
  });
  let received = 0;
  let check = 0;
  consumer.registerCallback(async (data, message) => {
    received++;
    check += data.id & 1;
    await message.ack();
  });
  await consumer.declare();
  const publisher = new Publisher(connection, { routingKey: "bench" });
  const sample = await timeRoundTrip(connection, publisher, consumer, {
    count,
    window: WINDOW,
    size: BODY,
  });
  if (received !== count || check < 0) throw new Error(`received ${received} of ${count}`);
  return sample;
}

/** A FIFO an async consumer waits on: the least an in-process queue can be. */
class AsyncFifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #waiter?: () => void;

  push(item: T): void {
    this.#items.push(item);
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter();
    }
  }

  async next(): Promise<T> {
    while (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined;
    return item;
  }
}

/**
 * The limit: each send JSON-encodes its message into a Buffer and queues it;
 * one consumer takes them in order, decodes them and awaits the same async
 * callback carrot's side runs. No broker, no envelope, no acknowledgement.
 */
async function limit(count: number): Promise<Sample> {
  const queue = new AsyncFifo<Buffer>();
  let received = 0;
  let check = 0;
  const callback = async (data: { id: number }) => {
    received++;
    check += data.id & 1;
  };
  const stop = startClock();
  const consumed = (async () => {
    for (let n = 0; n < count; n++) {
      const body = await queue.next();
      await callback(JSON.parse(body.toString("utf8")) as { id: number });
    }
  })();
  await sendInWindows(count, WINDOW, async (n) => {
    queue.push(Buffer.from(JSON.stringify(payloadOfSize(BODY, n)), "utf8"));
  });
  await consumed;
  const sample = stop();
  if (received !== count || check < 0) throw new Error(`received ${received} of ${count}`);
  return sample;
}

async function queuedRss(count: number): Promise<Record<string, number>> {
  const before = process.memoryUsage().rss;
  const connection = new Connection(`memory://bench-${randomUUID()}`);
  await new Consumer(connection, { queue: "deep" }).declare();
  const publisher = new Publisher(connection, { routingKey: "deep" });
  await sendInWindows(count, WINDOW, (n) => publisher.send(payloadOfSize(BODY, n)));
  const queued = await connection.purgeQueue("deep");
  if (queued !== count) throw new Error(`queued ${queued} of ${count}`);
  await connection.close();
  return {
    messages: count,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    baselineRssMiB: Math.round(before / 2 ** 20),
  };
}

const scenarios: Record<string, Scenario> = {
  "memory end-to-end (publish, consume, ack)": {
    title: "memory publish + consume + ack (raw: the limit, an in-process async queue with JSON)",
    note: "none: the limit has no broker semantics at all (no envelope, no acknowledgement, no prefetch), so above 1 could only be noise.",
    run: () =>
      compareRates(
        COUNT,
        sides(
          () => limit(COUNT),
          () => carrot(COUNT),
        ),
      ),
  },
  "memory peak RSS, 100k queued": {
    title: "memory peak RSS, 100k messages of 256 bytes queued (MiB)",
    run: async () => ({ type: "figures", figures: await queuedRss(100_000) }),
  },
};

export default scenarios;
