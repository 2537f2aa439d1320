import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Connection } from "@carrot/core";
import { expect, it } from "vitest";
import { feedConsumer } from "./consumer-callback.js";

// The seed's two shells, for real: the consumer and the publisher examples in
// two separate Node processes, talking through the machine's RabbitMQ.
const url = process.env.CARROT_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const run = promisify(execFile);
// Two Node processes that each load tsx and compile the sources: on a loaded
// 2-core machine that alone can take tens of seconds.
const CHILD_LIMIT = 60_000;

function example(file: string, env: Record<string, string> = {}) {
  return run(
    process.execPath,
    [
      "--conditions=@carrot/source",
      "--import",
      "tsx",
      fileURLToPath(new URL(file, import.meta.url)),
    ],
    {
      env: { ...process.env, CARROT_URL: url, ...env },
      timeout: CHILD_LIMIT,
    },
  );
}

it(
  "the consumer example receives what the publisher example sends, in another process",
  async () => {
    // The "feed" queue is durable and shared by every run: declare it and start empty,
    // so that whichever process starts first, the message waits for the consumer.
    const admin = new Connection(url);
    await feedConsumer(admin).declare();
    await admin.purgeQueue("feed");
    await admin.close();

    const [consumer, publisher] = await Promise.all([
      example("consumer-callback.ts", { LIMIT: "1" }),
      example("publisher-send.ts"),
    ]);
    expect(consumer.stdout).toBe("Got feed import message for: http://cnn.com/rss/edition.rss\n");
    expect(publisher.stdout).toBe("");
  },
  CHILD_LIMIT + 10_000,
); // the test's own limit covers its children's
