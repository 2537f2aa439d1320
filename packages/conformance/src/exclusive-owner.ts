// Run in a process of its own by the `exclusive-kill` case, which kills it
// with SIGKILL: a connection that owns an exclusive queue and then dies
// without a word, as a crashed service does. Arguments: the broker URL and
// the queue's name. It prints "ready" once it owns the queue.
import { Connection } from "@carrot/core";

const [url, queue] = process.argv.slice(2);
if (!url || !queue) throw new Error("usage: exclusive-owner <url> <queue>");
const connection = new Connection(url);
await connection.connect();
await connection.declareQueue({ name: queue, exclusive: true });
process.stdout.write("ready\n");
// Stays alive (owning the queue) until it is killed.
setInterval(() => undefined, 60_000);
