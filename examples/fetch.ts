/**
 * "Receiving messages without a callback": fetch() returns one message, or
 * null when the queue is empty.
 */
import { type Connection, Consumer } from "@carrot/core";

export async function fetchOneFeed(connection: Connection): Promise<string | null> {
  const consumer = new Consumer<{ import_feed: string }>(connection, {
    queue: "feed",
    exchange: "feed",
    routingKey: "importer",
  });
  try {
    const message = await consumer.fetch();
    if (!message) return null; // No messages waiting on the queue.
    const data = message.decode();
    await message.ack();
    return data.import_feed;
  } finally {
    await consumer.close();
  }
}
