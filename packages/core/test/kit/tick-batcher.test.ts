import { describe, expect, it } from "vitest";
import { type BatchOutcome, KeyedTickBatcher, TickBatcher } from "../../src/kit/tick-batcher.js";

const NO_BYTES = Number.POSITIVE_INFINITY;

/** A batcher that records each batch and answers every entry with `answer`. */
function recording<T, R = void>(
  answer: (item: T) => BatchOutcome<R>,
  limits = { entries: 10, bytes: NO_BYTES },
) {
  const batches: T[][] = [];
  const batcher = new TickBatcher<T, R>(async (items) => {
    batches.push([...items]);
    return items.map(answer);
  }, limits);
  return { batches, batcher };
}

const ok = (): undefined => undefined;

describe("TickBatcher", () => {
  it("coalesces calls made in one turn into batches of at most `entries`, in call order", async () => {
    const { batches, batcher } = recording<number>(ok);
    await Promise.all(Array.from({ length: 25 }, (_, i) => batcher.add(i)));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it("starts a new batch before the byte limit would be passed; an entry over it goes alone", async () => {
    const { batches, batcher } = recording<number>(ok, { entries: 10, bytes: 1000 });
    await Promise.all([400, 400, 400, 100, 1500, 100].map((size) => batcher.add(size, size)));
    expect(batches).toEqual([[400, 400], [400, 100], [1500], [100]]);
  });

  it("resolves each caller with its own entry's value", async () => {
    const { batcher } = recording<number, number>((item) => item * 2);
    expect(await Promise.all([1, 2, 3].map((i) => batcher.add(i)))).toEqual([2, 4, 6]);
  });

  it("fails only the entries the batch refused", async () => {
    const { batcher } = recording<number>((item) =>
      item % 3 === 0 ? new Error(`refused ${item}`) : undefined,
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

  it("settles an entry answered with a promise as that promise settles", async () => {
    const refused = new Error("refused later");
    const { batcher } = recording<number, number>((item) =>
      item === 1 ? Promise.resolve(10) : item === 2 ? Promise.reject(refused) : item,
    );
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => batcher.add(i)));
    expect(outcomes).toEqual([
      { status: "fulfilled", value: 10 },
      { status: "rejected", reason: refused },
      { status: "fulfilled", value: 3 },
    ]);
  });

  it("fails every entry with the reason a whole batch failed, thrown or rejected", async () => {
    const failure = new Error("request failed");
    for (const send of [
      async () => Promise.reject(failure),
      () => {
        throw failure;
      },
    ]) {
      const batcher = new TickBatcher<number>(send, { entries: 10, bytes: NO_BYTES });
      const outcomes = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
      expect(outcomes).toEqual([
        { status: "rejected", reason: failure },
        { status: "rejected", reason: failure },
      ]);
    }
  });

  it("gathers calls from every promise job and nextTick callback of the turn, however deep", async () => {
    const { batches, batcher } = recording<string>(ok, { entries: 100, bytes: NO_BYTES });
    const afterAwaits = async (depth: number, item: string): Promise<void> => {
      for (let i = 0; i < depth; i++) await Promise.resolve();
      return batcher.add(item);
    };
    // A turn that begins in a callback, as one does for each socket read.
    const turn = new Promise<unknown>((resolve, reject) =>
      setImmediate(() => {
        const calls = [batcher.add("callback"), afterAwaits(1, "job"), afterAwaits(20, "job 20")];
        process.nextTick(() => calls.push(batcher.add("tick")));
        queueMicrotask(() => Promise.all(calls).then(resolve, reject));
      }),
    );
    await turn;
    expect(batches).toEqual([["callback", "tick", "job", "job 20"]]);
  });

  it("sends the calls of a later turn in a batch of their own", async () => {
    const { batches, batcher } = recording<number>(ok);
    await batcher.add(1);
    await batcher.add(2);
    expect(batches).toEqual([[1], [2]]);
  });

  it("flush() sends what was gathered at once, and the turn's end then sends nothing more", async () => {
    const { batches, batcher } = recording<number>(ok);
    const first = [batcher.add(1), batcher.add(2)];
    batcher.flush();
    expect(batches).toEqual([[1, 2]]);
    await Promise.all(first);
    batcher.flush();
    expect(batches).toEqual([[1, 2]]);
  });
});

describe("KeyedTickBatcher", () => {
  it("batches each key's calls apart, each key with its own limits", async () => {
    const batches: [string, number[]][] = [];
    const batcher = new KeyedTickBatcher<string, number, string>(
      async (key, items) => {
        batches.push([key, [...items]]);
        return items.map((item) => `${key}${item}`);
      },
      { entries: 2, bytes: NO_BYTES },
    );
    const values = await Promise.all([
      batcher.add("a", 1),
      batcher.add("b", 1),
      batcher.add("a", 2),
      batcher.add("a", 3),
      batcher.add("b", 2),
    ]);
    expect(values).toEqual(["a1", "b1", "a2", "a3", "b2"]);
    expect(batches).toEqual([
      ["a", [1, 2]],
      ["b", [1, 2]],
      ["a", [3]],
    ]);
  });

  it("flush() sends every key's batch, and a key sent is begun anew", async () => {
    const batches: [object, number[]][] = [];
    const batcher = new KeyedTickBatcher<object, number>(
      async (key, items) => {
        batches.push([key, [...items]]);
        return items.map(ok);
      },
      { entries: 10, bytes: NO_BYTES },
    );
    const a = {};
    const b = {};
    const first = [batcher.add(a, 1), batcher.add(b, 2)];
    batcher.flush();
    expect(batches).toEqual([
      [a, [1]],
      [b, [2]],
    ]);
    await Promise.all(first);
    await batcher.add(a, 3);
    expect(batches[2]).toEqual([a, [3]]);
    expect(batches[2]![0]).toBe(a);
  });
});
