import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { settledWithin, withTimeout } from "../src/time-limits.js";

/** A promise that settles only when the test says so. */
function pending<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether the promise has settled, read after the microtasks have run. */
function watched(promise: Promise<unknown>): { settled: boolean } {
  const watch = { settled: false };
  const settle = () => {
    watch.settled = true;
  };
  promise.then(settle, settle);
  return watch;
}

describe("time limits", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("settledWithin resolves when the work settles, either way, and leaves no timer", async () => {
    const resolved = pending<string>();
    const bounded = settledWithin(resolved.promise, 1000);
    const watch = watched(bounded);
    await vi.advanceTimersByTimeAsync(0);
    expect(watch.settled).toBe(false);
    resolved.resolve("done");
    await expect(bounded).resolves.toBeUndefined();
    const rejected = pending<string>();
    const boundedFailure = settledWithin(rejected.promise, 1000);
    rejected.reject(new Error("refused"));
    await expect(boundedFailure).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("settledWithin resolves after ms when the work never settles", async () => {
    const watch = watched(settledWithin(pending().promise, 1000));
    await vi.advanceTimersByTimeAsync(999);
    expect(watch.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(watch.settled).toBe(true);
  });

  it("withTimeout passes on the work's value or error, and leaves no timer", async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, () => new Error("late"))).resolves.toBe(42);
    await expect(
      withTimeout(Promise.reject(new Error("refused")), 1000, () => new Error("late")),
    ).rejects.toThrow("refused");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("withTimeout rejects with the timeout's error after ms, and ignores a late outcome", async () => {
    const work = pending<number>();
    const bounded = withTimeout(work.promise, 1000, () => new Error("no answer within 1000 ms"));
    const outcome = bounded.then(
      (value) => ({ value }),
      (error: Error) => ({ error: error.message }),
    );
    const watch = watched(outcome);
    await vi.advanceTimersByTimeAsync(999);
    expect(watch.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    work.resolve(7);
    expect(await outcome).toEqual({ error: "no answer within 1000 ms" });
  });
});
