// Run in a process of its own by the `dead-requester` case, which kills it
// with SIGKILL: a requester that dies without a word while its connection
// holds a reply destination. Arguments: the broker URL and the queue its
// responder consumes. It sends one request there (by the default
// exchange), prints "ready" once the reply came, and stays alive, its reply
// destination open, until it is killed.
import { Connection, Publisher } from "@carrot/core";

const [url, queue] = process.argv.slice(2);
if (!url || !queue) throw new Error("usage: requester <url> <queue>");
const connection = new Connection(url);
const publisher = new Publisher<string>(connection, { routingKey: queue });
await publisher.request("from the requester process");
process.stdout.write("ready\n");
setInterval(() => undefined, 60_000);
