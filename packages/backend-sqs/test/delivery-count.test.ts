import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { collect, declare, send } from "./backend-direct.js";
import { connectSqs, deleteQueues, sqsEndpoint, uniquePrefix, waitFor } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));
const packageDir = fileURLToPath(new URL("..", import.meta.url));

interface ChildSaw {
  body: string;
  deliveryCount: number;
  redelivered: boolean;
}

/**
 * Starts a process that takes one message from `queue` and holds it
 * unsettled (its lease renewed), waits until it says what it got, then
 * kills it with SIGKILL: its message comes back after the visibility timeout.
 */
async function killedHolding(queue: string): Promise<ChildSaw> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--conditions=@carrot/source",
      "test/fixtures/counting-consumer.ts",
      sqsEndpoint(),
      prefix,
      queue,
    ],
    { cwd: packageDir, stdio: ["ignore", "pipe", "inherit"] },
  );
  const received = waitFor<ChildSaw>("the child to receive the message", 20_000);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    const line = output.split("\n")[0];
    if (output.includes("\n") && line) received.resolve(JSON.parse(line));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    return await received.promise;
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

describe("the delivery count (SQS's ApproximateReceiveCount)", () => {
  it("counts requeues: 1, 2, 3, with redelivered from the second", async () => {
    const { conn, backend } = await connectSqs(prefix, { waitTimeSeconds: 1 });
    await declare(backend, "requeued");
    await send(backend, "requeued", "again");
    let deliveries = 0;
    const seen = await collect(backend, "requeued", 3, {
      settle: (d) => d.reject(++deliveries < 3), // requeued twice, then deleted
    });
    expect(seen.map((s) => [s.info.deliveryCount, s.info.redelivered])).toEqual([
      [1, false],
      [2, true],
      [3, true],
    ]);
    await conn.close();
  });

  it("counts the delivery to a consumer process killed holding the message", async () => {
    const { conn, backend } = await connectSqs(prefix, {
      waitTimeSeconds: 1,
      visibilityTimeout: 2,
    });
    await declare(backend, "killed");
    await send(backend, "killed", "held");
    expect(await killedHolding("killed")).toEqual({
      body: "held",
      deliveryCount: 1,
      redelivered: false,
    });
    const [again] = await collect(backend, "killed", 1);
    expect(again?.info).toMatchObject({ deliveryCount: 2, redelivered: true });
    await conn.close();
  });

  it("leaves out the hold of a delayed FIFO message, across a killed consumer too", async () => {
    const { conn, backend } = await connectSqs(prefix, {
      waitTimeSeconds: 1,
      visibilityTimeout: 2,
    });
    await declare(backend, "killed.fifo");
    await send(backend, "killed.fifo", "delayed", { groupId: "g", delay: 1500 });
    // Received early (held: a receive SQS counts), then delivered to the child: its first delivery.
    expect(await killedHolding("killed.fifo")).toEqual({
      body: "delayed",
      deliveryCount: 1,
      redelivered: false,
    });
    const [again] = await collect(backend, "killed.fifo", 1);
    expect(again?.info).toMatchObject({ deliveryCount: 2, redelivered: true, groupId: "g" });
    await conn.close();
  });

  it("reports the group of a FIFO message, not a standard queue's fair-queue tenant", async () => {
    const { conn, backend } = await connectSqs(prefix, { waitTimeSeconds: 1 });
    await declare(backend, "grouped.fifo");
    await declare(backend, "tenants");
    await send(backend, "grouped.fifo", "g", { groupId: "order-42" });
    await send(backend, "grouped.fifo", "default");
    await send(backend, "tenants", "t", { groupId: "tenant-1" });
    const fifo = await collect(backend, "grouped.fifo", 2);
    // Two groups: no order between them.
    expect(fifo.map((s) => [s.body, s.info.groupId]).sort()).toEqual([
      ["default", "default"], // no groupId: one order for the whole queue
      ["g", "order-42"],
    ]);
    const [standard] = await collect(backend, "tenants", 1);
    expect(standard?.info.groupId).toBeUndefined();
    await conn.close();
  });
});
