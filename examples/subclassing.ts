/**
 * "Sub-classing the messaging classes": class-level defaults (carrot's class
 * attributes) as `static defaults`, which constructor options override.
 */
import { type Connection, Consumer, type Message, Publisher } from "@carrot/core";

export interface FeedAction {
  action: string;
  feed_url: string;
}

export class FeedPublisher extends Publisher<FeedAction> {
  static override defaults = { exchange: "feed", routingKey: "importer" };

  importFeed(feedUrl: string): Promise<void> {
    return this.send({ action: "import_feed", feed_url: feedUrl });
  }
}

export class FeedConsumer extends Consumer<FeedAction> {
  static override defaults = { queue: "feed", exchange: "feed", routingKey: "importer" };

  override async receive(data: FeedAction, message: Message<FeedAction>): Promise<void> {
    if (data.action !== "import_feed") throw new Error(`Unknown action: ${data.action}`);
    console.log(`Got feed import message for: ${data.feed_url}`);
    // something importing this feed: importFeed(data.feed_url)
    await message.ack();
  }
}

export async function importWithSubclasses(connection: Connection, feedUrl: string): Promise<void> {
  const consumer = new FeedConsumer(connection);
  await consumer.declare();
  const publisher = new FeedPublisher(connection);
  await publisher.importFeed(feedUrl);
  await publisher.close();
  await consumer.wait({ limit: 1 }); // Go into the consumer loop.
  await consumer.close();
}
