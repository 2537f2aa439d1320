import { afterAll, describe, expect, it } from "vitest";
import { sqsQueueName } from "../src/index.js";
import { collect, declare, send } from "./backend-direct.js";
import { connectSqs, deleteQueues, uniquePrefix } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

describe("failedQueueName", () => {
  it("is <queue>-failed, and <base>-failed.fifo for a FIFO queue", async () => {
    const { conn, backend } = await connectSqs(prefix);
    expect(backend.failedQueueName("orders")).toBe("orders-failed");
    expect(backend.failedQueueName("orders.created")).toBe("orders.created-failed");
    expect(backend.failedQueueName("orders.fifo")).toBe("orders-failed.fifo");
    // As SQS names: "-" needs no escape, and a FIFO queue's failed queue is a FIFO queue.
    expect(sqsQueueName(backend.failedQueueName("orders"), "app-")).toBe("app-orders-failed");
    expect(sqsQueueName(backend.failedQueueName("orders.fifo"), "")).toBe("orders-failed.fifo");
    await conn.close();
  });

  it("past SQS's 80 characters, is cut and hashed like any long name: valid, and never the source queue's", async () => {
    const { conn, backend } = await connectSqs(prefix, { waitTimeSeconds: 1 });
    for (const queue of [`${"q".repeat(70)}`, `${"q".repeat(70)}.fifo`]) {
      const failed = backend.failedQueueName(queue);
      const sqsName = sqsQueueName(failed, prefix);
      expect(sqsName.length).toBeLessThanOrEqual(80);
      expect(sqsName).toMatch(/_h[\w-]{12}(\.fifo)?$/);
      expect(sqsName).not.toBe(sqsQueueName(queue, prefix));
      expect(sqsName.endsWith(".fifo")).toBe(queue.endsWith(".fifo"));
      await declare(backend, queue);
      await declare(backend, failed);
      await send(backend, failed, `kept for ${queue.length}`, { groupId: "g" });
      const [kept] = await collect(backend, failed, 1);
      expect(kept?.body).toBe(`kept for ${queue.length}`);
    }
    await conn.close();
  });
});
