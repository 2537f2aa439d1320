/**
 * "Receiving messages using a Consumer": a callback, then wait() to go into
 * the consumer loop. Alone, it consumes until interrupted:
 *   CARROT_URL=amqp://guest:guest@127.0.0.1:5672// tsx --conditions=@carrot/source examples/consumer-callback.ts
 */
import { Connection, Consumer } from "@carrot/core";

export function feedConsumer(connection: Connection): Consumer<{ import_feed: string }> {
  const consumer = new Consumer<{ import_feed: string }>(connection, {
    queue: "feed",
    exchange: "feed",
    routingKey: "importer",
  });
  consumer.registerCallback(async (data, message) => {
    console.log(`Got feed import message for: ${data.import_feed}`);
    // something importing this feed url
    await message.ack();
  });
  return consumer;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const connection = new Connection(process.env.CARROT_URL ?? "memory://");
  const consumer = feedConsumer(connection);
  process.once("SIGINT", () => void connection.close());
  const limit = process.env.LIMIT ? Number(process.env.LIMIT) : undefined;
  await consumer.wait({ limit }); // Go into the consumer loop.
  await connection.close();
}
