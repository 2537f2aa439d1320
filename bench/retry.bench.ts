/**
 * The cost of a retry on each backend: N messages, each failing its first
 * delivery and acked on its second, once through the failure policy (a
 * copy with the failure record sent back to the queue, then the original
 * acked) and once through `message.requeue()` (the broker puts the same
 * message back: the cheapest second delivery there is, but without a
 * backoff, a count on most brokers, or a record). Both sides are carrot, in
 * turns in one process; the figures are their medians and the difference
 * per message is what a retry costs beyond a requeue. Only consuming is
 * timed: the queue is filled first.
 */
import { randomUUID } from "node:crypto";
import { Connection, Consumer, Publisher } from "@carrot/core";
import startFauxqs from "../packages/backend-sqs/test/fauxqs-setup.js";
import {
  compareRates,
  type Result,
  type Sample,
  type Scenario,
  sides,
  startClock,
} from "./compare.js";
import { payloadOfSize, sendInWindows } from "./payload.js";
import { spread } from "./report.js";

const BODY = 256;
const WINDOW = 500;
const AMQP_URL = process.env.CARROT_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const REDIS_URL = process.env.CARROT_REDIS_URL ?? "redis://127.0.0.1:6379";

type SecondDelivery = "retry" | "requeue";

/** Fills a fresh queue with `count` messages, then times their two deliveries each. */
async function failOnce(url: string, count: number, how: SecondDelivery): Promise<Sample> {
  const connection = new Connection(url);
  const queue = `bench-retry-${randomUUID().slice(0, 8)}`;
  const consumer = new Consumer<{ id: number }>(connection, {
    queue,
    durable: false,
    prefetchCount: WINDOW,
    retry: { attempts: 2, backoff: { initial: 0, jitter: "none" } },
  });
  consumer.on("error", () => undefined); // every first delivery fails on purpose
  let acked = 0;
  consumer.registerCallback(async (_data, message) => {
    if (message.deliveryCount === 1) {
      if (how === "retry") throw new Error("first delivery fails");
      await message.requeue();
      return;
    }
    acked++;
    await message.ack();
  });
  await consumer.declare();
  const publisher = new Publisher(connection, { routingKey: queue });
  await sendInWindows(count, WINDOW, (n) => publisher.send(payloadOfSize(BODY, n)));
  const stop = startClock();
  await consumer.wait({ limit: 2 * count });
  const sample = stop();
  await connection.deleteQueue(queue);
  await connection.close();
  if (acked !== count) throw new Error(`${how}: acked ${acked} of ${count}`);
  return sample;
}

/** Medians of both sides as plain figures: what a retry costs beside a requeue. */
async function retryCost(url: string, count: number): Promise<Result> {
  const rounds = await compareRates(
    count,
    sides(
      () => failOnce(url, count, "requeue"),
      () => failOnce(url, count, "retry"),
    ),
  );
  const requeue = rounds.sides.raw!;
  const retry = rounds.sides.carrot!;
  const requeueCpu = spread(requeue.cpuMicrosPerMsg).median;
  const retryCpu = spread(retry.cpuMicrosPerMsg).median;
  return {
    type: "figures",
    figures: {
      "requeue msgs/s": Math.round(spread(requeue.msgsPerSec).median),
      "retry msgs/s": Math.round(spread(retry.msgsPerSec).median),
      "requeue CPU µs/msg": requeueCpu,
      "retry CPU µs/msg": retryCpu,
      "retry extra CPU µs/msg": Math.round((retryCpu - requeueCpu) * 10) / 10,
    },
  };
}

const title = (backend: string) =>
  `${backend}: a message failing once, retried by the policy vs requeued (both carrot)`;

export default {
  "retry-memory": {
    title: title("memory"),
    run: () =>
      retryCost(`memory://bench-${randomUUID()}`, Number(process.env.BENCH_COUNT ?? 20_000)),
  },
  "retry-amqp": {
    title: title("RabbitMQ"),
    run: () => retryCost(AMQP_URL, Number(process.env.BENCH_COUNT ?? 5_000)),
  },
  "retry-redis": {
    title: title("Redis"),
    run: () => retryCost(REDIS_URL, Number(process.env.BENCH_COUNT ?? 5_000)),
  },
  "retry-sqs": {
    title: title("SQS (fauxqs)"),
    run: async () => {
      const stop = await startFauxqs(); // no-op when CARROT_SQS_ENDPOINT is set
      try {
        const endpoint = encodeURIComponent(process.env.CARROT_SQS_ENDPOINT as string);
        const url = `sqs://?region=us-east-1&endpoint=${endpoint}&prefix=bench-${randomUUID().slice(0, 6)}-&waitTimeSeconds=1`;
        return await retryCost(url, Number(process.env.BENCH_COUNT ?? 1_000));
      } finally {
        await stop();
      }
    },
  },
} satisfies Record<string, Scenario>;
