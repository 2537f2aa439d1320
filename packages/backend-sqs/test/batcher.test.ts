import { describe, expect, it } from "vitest";
import { Batcher } from "../src/batcher.js";

describe("Batcher (SendMessageBatch coalescing)", () => {
  it("coalesces calls made in one turn into batches of at most 10", async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(
      async (items) => {
        batches.push(items);
        return items.map(() => undefined);
      },
      { entries: 10, bytes: Number.POSITIVE_INFINITY },
    );
    await Promise.all(Array.from({ length: 25 }, (_, i) => batcher.add(i)));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it("starts a new batch before the byte limit would be passed", async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(
      async (items) => {
        batches.push(items);
        return items.map(() => undefined);
      },
      { entries: 10, bytes: 1000 },
    );
    await Promise.all([400, 400, 400, 100, 900].map((size) => batcher.add(size, size)));
    expect(batches).toEqual([[400, 400], [400, 100], [900]]);
  });

  it("fails only the entries the batch refused", async () => {
    const batcher = new Batcher<number>(
      async (items) =>
        items.map((item) => (item % 3 === 0 ? new Error(`refused ${item}`) : undefined)),
      {
        entries: 10,
        bytes: Number.POSITIVE_INFINITY,
      },
    );
    const outcomes = await Promise.allSettled(Array.from({ length: 7 }, (_, i) => batcher.add(i)));
    expect(outcomes.map((o) => o.status)).toEqual([
      "rejected",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "rejected",
    ]);
    expect((outcomes[3] as PromiseRejectedResult).reason.message).toBe("refused 3");
  });
});
