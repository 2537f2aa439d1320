import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Consumer, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { connectSqs, deleteQueues, sqsUrl, uniquePrefix, waitFor } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));
const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("a consumer process killed mid-handler", () => {
  it("loses nothing: after the visibility timeout another consumer gets the message, redelivered", async () => {
    const { conn } = await connectSqs(prefix, { visibilityTimeout: 2, waitTimeSeconds: 1 });
    const consumer = new Consumer<{ order: number }>(conn, { queue: "killed" });
    await consumer.declare();
    await new Publisher(conn, { routingKey: "killed" }).send({ order: 7 });

    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--conditions=@carrot/source",
        "test/fixtures/holding-consumer.ts",
        sqsUrl(prefix, { visibilityTimeout: 2, waitTimeSeconds: 1 }),
        "killed",
      ],
      { cwd: packageDir, stdio: ["ignore", "pipe", "inherit"] },
    );
    const received = waitFor<{ data: unknown; redelivered: boolean }>(
      "the child to receive the message",
      20_000,
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split("\n")[0];
      if (output.includes("\n") && line) received.resolve(JSON.parse(line));
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      expect(await received.promise).toEqual({ data: { order: 7 }, redelivered: false });
    } finally {
      child.kill("SIGKILL");
    }
    await exited;

    const redelivered = waitFor<{ data: unknown; redelivered: boolean }>("the redelivery", 20_000);
    consumer.registerCallback(async (data, message) => {
      await message.ack();
      redelivered.resolve({ data, redelivered: message.deliveryInfo.redelivered });
    });
    const waiting = consumer.wait({ limit: 1 });
    expect(await redelivered.promise).toEqual({ data: { order: 7 }, redelivered: true });
    await waiting;
    await conn.close();
  });
});
