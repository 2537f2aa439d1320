// A CommonJS module that imports the ESM-only packages: TypeScript compiles
// it to require() (module nodenext, TypeScript >= 5.8), which Node >= 20.19
// runs (require of an ES module). .ci/types-and-docs runs it.

import { memoryBackend } from "@carrot/backend-memory";
import { Connection, Consumer, Publisher } from "@carrot/core";

async function main(): Promise<void> {
  const connection = new Connection({ backend: memoryBackend });
  const consumer = new Consumer<{ import_feed: string }>(connection, { queue: "cjs-feed" });
  consumer.registerCallback(async (data, message) => {
    console.log(`Got feed import message for: ${data.import_feed}`);
    await message.ack();
  });
  await consumer.declare();
  const consuming = consumer.wait({ limit: 1 });
  await new Publisher(connection, { routingKey: "cjs-feed" }).send({
    import_feed: "http://cnn.com/rss/edition.rss",
  });
  await consuming;
  await connection.close();
}

void main();
