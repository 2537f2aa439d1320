// Run in a process of its own by forward-crash.test.ts, which kills it
// (SIGKILL) in the middle of forwarding. Arguments: the source broker's URL
// and queue, the destination broker's URL and exchange, and `hold`. It
// forwards the queue's numbered messages; from the `hold`-th destination
// confirm on, it never lets a forward reach its ack, and prints "held <n>"
// for each such message: confirmed at the destination, never acked at the
// source, when the kill comes. A crash between the two, for real.
import { Connection, Consumer, forward, Publisher } from "@carrot/core";

const [fromUrl, queue, toUrl, exchange, hold] = process.argv.slice(2);
if (!fromUrl || !queue || !toUrl || !exchange || !hold)
  throw new Error("usage: forward-child <from url> <queue> <to url> <exchange> <hold>");
const consumer = new Consumer(new Connection(fromUrl), { queue, prefetchCount: 4 });
const publisher = new Publisher(new Connection(toUrl), { exchange });
let confirmed = 0;
forward(consumer, {
  options: publisher.options,
  send: (data, options) => publisher.send(data, options),
  async sendRaw(message, options) {
    await publisher.sendRaw(message, options);
    if (++confirmed < Number(hold)) return;
    process.stdout.write(`held ${Buffer.from(message.body).toString()}\n`);
    await new Promise(() => undefined);
  },
});
