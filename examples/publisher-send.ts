/**
 * "Sending messages using a Publisher": send() resolves once the broker has
 * the message.
 *   CARROT_URL=amqp://guest:guest@127.0.0.1:5672// tsx --conditions=@carrot/source examples/publisher-send.ts
 */
import { Connection, Publisher } from "@carrot/core";

export async function sendFeed(connection: Connection, feedUrl: string): Promise<void> {
  const publisher = new Publisher(connection, { exchange: "feed", routingKey: "importer" });
  await publisher.send({ import_feed: feedUrl });
  await publisher.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const connection = new Connection(process.env.CARROT_URL ?? "memory://");
  await sendFeed(connection, "http://cnn.com/rss/edition.rss");
  await connection.close();
}
