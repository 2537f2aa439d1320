/**
 * The README's "Redis Cluster" figures: carrot's publish and consume rates on
 * one Redis and on the test Redis Cluster (three masters, three replicas, all
 * on this machine), with the cluster's default (each publish confirmed by a
 * replica, `replicas=1`) and without (`replicas=0`). One host shares its
 * cores between every node and the client: this shows what the cluster's
 * extra round trips cost, not what more machines would give.
 *
 *   .ci/redis-cluster start
 *   npx tsx --conditions=@carrot/source packages/backend-redis/bench/cluster-figures.ts
 *
 * `BENCH_COUNT` messages per run (default 20000), 256-byte JSON bodies, 1000
 * sends in flight; the fan-out sends a tenth as many to 10 queues.
 */
import { randomUUID } from "node:crypto";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { redisBackend } from "../src/index.js";

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const WINDOW = 1000;
const FANOUT = 10;
const TARGETS = {
  "one Redis": "redis://127.0.0.1:6379/",
  "cluster, replicas=1": "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103/?replicas=1",
  "cluster, replicas=0": "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103/?replicas=0",
};
const body = { data: "x".repeat(240) };

async function sendAll(publisher: Publisher<object>, count: number): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < count) {
        next++;
        await publisher.send(body);
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

async function measure(base: string) {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const url = `${base}${base.includes("?") ? "&" : "?"}prefix=${prefix}`;
  const connection = new Connection({ url, backend: redisBackend });
  const consuming = new Connection({ url, backend: redisBackend });
  const queue = "one";
  await connection.declareQueue({ name: queue });
  const publish = await sendAll(new Publisher(connection, { routingKey: queue }), COUNT);
  const consumer = new Consumer(consuming, { queue, prefetchCount: 100 });
  let got = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    consumer.registerCallback(async (_data, message) => {
      await message.ack();
      if (++got === COUNT) resolve();
    });
    void consumer.wait();
  });
  const consume = COUNT / ((performance.now() - start) / 1000);
  await consumer.cancel();
  await connection.declareExchange({ name: "fan", type: "fanout" });
  for (let i = 0; i < FANOUT; i++) {
    await connection.declareQueue({ name: `f${i}` });
    await connection.bindQueue({ queue: `f${i}`, exchange: "fan", routingKey: "" });
  }
  const fanout = await sendAll(
    new Publisher(connection, { exchange: "fan", exchangeType: "fanout" }),
    COUNT / FANOUT,
  );
  for (const name of [queue, ...Array.from({ length: FANOUT }, (_, i) => `f${i}`)]) {
    await connection.deleteQueue(name);
  }
  await connection.deleteExchange("fan");
  await Promise.all([connection.close(), consuming.close()]);
  return { publish, consume, fanout };
}

const rows: string[] = [
  "| target | publish msg/s | consume msg/s | fan-out to 10, msg/s |",
  "| --- | --- | --- | --- |",
];
for (const [name, url] of Object.entries(TARGETS)) {
  const { publish, consume, fanout } = await measure(url);
  const fmt = (n: number) => Math.round(n).toLocaleString("en");
  rows.push(`| ${name} | ${fmt(publish)} | ${fmt(consume)} | ${fmt(fanout)} |`);
}
console.log(rows.join("\n"));
