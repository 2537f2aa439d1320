import { randomUUID } from "node:crypto";
import { Consumer, Publisher } from "@carrot/core";
import { expect, it } from "vitest";
import { connectionFromSettings, DjangoAMQPConnection } from "../src/index.js";
import { settingsDir } from "./support/settings-dir.js";

// The seed's README, on the machine's RabbitMQ: a settings file with the
// seed's settings.py names, `DjangoAMQPConnection()`, a consumer and a
// publisher. The amqp backend is reached only through core's scheme lookup.

// CARROT_AMQP_URL: the broker the global setup (support/broker-setup.ts) found or started.
const url = process.env.CARROT_AMQP_URL;
if (!url)
  throw new Error(
    "CARROT_AMQP_URL is not set: run this test through vitest, whose global setup finds or starts RabbitMQ",
  );
const broker = new URL(url);

/** The broker's address as the seed's settings.py spelled it. */
const seedSettings = {
  AMQP_SERVER: broker.hostname,
  AMQP_PORT: Number(broker.port || 5672),
  AMQP_USER: decodeURIComponent(broker.username || "guest"),
  AMQP_PASSWORD: decodeURIComponent(broker.password || "guest"),
  AMQP_VHOST: broker.pathname.length > 1 ? decodeURIComponent(broker.pathname.slice(1)) : "/",
};

it("runs the seed's publish/consume example on RabbitMQ, connected from a settings file", async () => {
  const dir = settingsDir({
    "carrot.settings.cjs": `module.exports = ${JSON.stringify(seedSettings)};\n`,
  });
  const names = {
    queue: `feed-${randomUUID()}`,
    exchange: `feed-${randomUUID()}`,
    routingKey: "importer",
  };

  // >>> amqpconn = DjangoAMQPConnection()
  await using consumerConnection = new DjangoAMQPConnection(undefined, { cwd: dir, env: {} });
  await using publisherConnection = await connectionFromSettings({ cwd: dir, env: {} });
  expect(String(publisherConnection)).toBe(String(consumerConnection));

  try {
    const consumer = new Consumer<{ import_feed: string }>(consumerConnection, names);
    const received: string[] = [];
    consumer.registerCallback(async (data, message) => {
      received.push(`Got feed import message for: ${data.import_feed}`);
      await message.ack();
    });
    await consumer.declare();
    const consuming = consumer.wait({ limit: 1 });

    const publisher = new Publisher(publisherConnection, {
      exchange: names.exchange,
      routingKey: "importer",
    });
    await publisher.send({ import_feed: "http://cnn.com/rss/edition.rss" });
    await publisher.close();

    await consuming;
    await consumer.close();
    expect(received).toEqual(["Got feed import message for: http://cnn.com/rss/edition.rss"]);
  } finally {
    // Only when connected: otherwise this would connect again and hide the first failure.
    if (consumerConnection.connected) {
      await consumerConnection.deleteQueue(names.queue);
      await consumerConnection.deleteExchange(names.exchange);
    }
  }
});
