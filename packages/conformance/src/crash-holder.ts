// Run in a process of its own by the `count-crash` case, which kills it
// with SIGKILL while it holds messages: a consumer that crashes in the
// middle of its work, without a word to the broker. Arguments: the broker
// URL, the queue, its queue arguments as JSON (declared as the case
// declares them), and how many messages to hold. Once it holds that many
// it prints "ready" and what it holds (payload and deliveryCount of each)
// as JSON, and never settles them.
import { Connection, Consumer } from "@carrot/core";

const [url, queue, queueArguments, count] = process.argv.slice(2);
if (!url || !queue || !queueArguments || !count)
  throw new Error("usage: crash-holder <url> <queue> <queue arguments as JSON> <count>");
const connection = new Connection(url);
await connection.connect();
const consumer = new Consumer<string>(connection, {
  queue,
  queueArguments: JSON.parse(queueArguments),
  prefetchCount: Number(count),
});
const held: { payload: string; deliveryCount: number }[] = [];
consumer.registerCallback((payload, message) => {
  held.push({ payload, deliveryCount: message.deliveryCount });
  if (held.length === Number(count)) process.stdout.write(`ready ${JSON.stringify(held)}\n`);
  // Held until the process is killed.
  return new Promise(() => undefined);
});
await consumer.wait();
