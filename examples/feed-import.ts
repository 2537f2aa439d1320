/**
 * The seed README's main job, end to end: a consumer of the "feed" queue
 * (bound to the "feed" exchange with key "importer") and a publisher that
 * sends it one feed to import.
 *   pnpm example                                              # embedded memory broker
 *   CARROT_URL=amqp://guest:guest@127.0.0.1:5672// pnpm example   # RabbitMQ
 */
import { Connection } from "@carrot/core";
import { feedConsumer } from "./consumer-callback.js";
import { sendFeed } from "./publisher-send.js";

export async function main(url = process.env.CARROT_URL ?? "memory://"): Promise<void> {
  await using connection = new Connection(url);
  const consumer = feedConsumer(connection);
  // Declared before sending, so that the message has a queue to go to.
  await consumer.declare();
  const consumed = consumer.wait({ limit: 1 });
  await sendFeed(connection, "http://cnn.com/rss/edition.rss");
  await consumed;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
