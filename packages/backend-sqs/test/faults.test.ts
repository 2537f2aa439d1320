import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Connection,
  Consumer,
  Publisher,
  PublishOutcomeUnknownError,
  PublishTimeoutError,
} from "@carrot/core";
import { describe, expect, it } from "vitest";
import { sqsBackend } from "../src/index.js";
import { startEmulator } from "./fauxqs-setup.js";
import { uniquePrefix, waitFor } from "./sqs-test-env.js";

describe("SQS going away and coming back (an emulator of its own, restarted)", () => {
  it("fails sends while it is gone (never reported as sent), reports disconnect/reconnect, and consumers resume", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "carrot-fauxqs-"));
    let emulator = await startEmulator({ dataDir });
    const query = new URLSearchParams({
      region: "us-east-1",
      endpoint: emulator.endpoint,
      prefix: uniquePrefix(),
      waitTimeSeconds: "1",
    });
    const conn = new Connection({
      url: `sqs://?${query}`,
      backend: sqsBackend,
      reconnect: { initialDelay: 50, maxDelay: 500 },
      transportOptions: { maxAttempts: 2 },
    });
    try {
      const events: string[] = [];
      const disconnected = waitFor<void>("the disconnect event");
      const reconnected = waitFor<void>("the reconnect event", 20_000);
      conn.on("disconnect", () => {
        events.push("disconnect");
        disconnected.resolve();
      });
      conn.on("reconnect", () => {
        events.push("reconnect");
        reconnected.resolve();
      });
      conn.on("error", () => undefined); // the failed receives, reported while SQS is away
      const consumer = new Consumer<string>(conn, { queue: "faults" });
      const received: string[] = [];
      let next = waitFor<void>("'before'");
      consumer.registerCallback(async (data, message) => {
        await message.ack();
        received.push(data);
        next.resolve();
      });
      await consumer.declare();
      const waiting = consumer.wait();
      const publisher = new Publisher<string>(conn, { routingKey: "faults", sendTimeout: 5_000 });
      await publisher.send("before");
      await next.promise;

      await emulator.stop();
      await disconnected.promise;
      const during = await publisher.send("during").then(
        () => "sent",
        (error: unknown) => error,
      );
      // SQS was not there: the send must say it may not have happened, never that it did.
      expect(during).not.toBe("sent");
      expect(
        during instanceof PublishOutcomeUnknownError || during instanceof PublishTimeoutError,
      ).toBe(true);

      emulator = await startEmulator({ port: emulator.port, dataDir });
      await reconnected.promise;
      next = waitFor<void>("'after'");
      await publisher.send("after");
      await next.promise;
      expect(received).toEqual(["before", "after"]);
      expect(events).toEqual(["disconnect", "reconnect"]);
      await consumer.cancel();
      await waiting;
    } finally {
      await conn.close();
      await emulator.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
