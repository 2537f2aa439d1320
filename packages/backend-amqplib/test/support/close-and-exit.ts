// Run as a child process by exit-after-close.test.ts: connects, publishes,
// consumes what it published, closes, and prints what still holds the event
// loop right after close() resolved, and then when the process exits by itself.
import { Connection, Consumer, Publisher } from "@carrot/core";
import { AMQP_URL, unique } from "./broker.js";

/** The resources that keep a process alive and that a connection's close must release. */
const held = () =>
  process.getActiveResourcesInfo().filter((kind) => kind === "Timeout" || kind === "TCPSocketWrap");

const before = held();
const connection = new Connection(AMQP_URL);
const queue = unique("exit");
const consumer = new Consumer<string>(connection, { queue, autoDelete: true, durable: false });
consumer.registerCallback((_data, message) => message.ack());
await Promise.all([
  consumer.wait({ limit: 1 }),
  consumer.declare().then(() => new Publisher(connection, { routingKey: queue }).send("once")),
]);
await connection.close();
const closedAt = performance.now();
const afterClose = held();
process.on("exit", () => {
  const msToExit = Math.round(performance.now() - closedAt);
  process.stdout.write(`${JSON.stringify({ before, afterClose, msToExit })}\n`);
});
