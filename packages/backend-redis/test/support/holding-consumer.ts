// A consumer process that takes messages and never settles them, for the
// test that kills it with SIGKILL. Usage: holding-consumer <url> <queue> <count>
// Prints "held <n>" once it holds <count> messages.
import { Connection, Consumer, registerBackend } from "@carrot/core";
import { redisBackend } from "../../src/index.js";

registerBackend("redis", redisBackend);
const [url, queue, count] = process.argv.slice(2) as [string, string, string];
const conn = new Connection(url);
const consumer = new Consumer(conn, { queue, prefetchCount: Number(count) });
let held = 0;
consumer.registerCallback(() => {
  held++;
  if (held === Number(count)) process.stdout.write(`held ${held}\n`);
});
await consumer.declare();
process.stdout.write("ready\n");
await consumer.wait();
