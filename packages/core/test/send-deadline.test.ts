import { describe, expect, it, vi } from "vitest";
import { PublishTimeoutError } from "../src/errors.js";
import { SendDeadline } from "../src/send-deadline.js";

describe("SendDeadline", () => {
  const deadline = new SendDeadline(50, () => new PublishTimeoutError("no confirm within 50 ms"));

  /** A `settled` callback that counts its calls. */
  function counter(): { settled: () => void; readonly calls: number } {
    let calls = 0;
    return {
      settled: () => {
        calls++;
      },
      get calls() {
        return calls;
      },
    };
  }

  it("passes on the outcome of work that settles in time, and says it settled once", async () => {
    const confirmed = counter();
    await expect(deadline.watch(Promise.resolve("confirmed"), confirmed.settled)).resolves.toBe(
      "confirmed",
    );
    expect(confirmed.calls).toBe(1);
    const nacked = counter();
    await expect(
      deadline.watch(Promise.reject(new Error("nacked")), nacked.settled),
    ).rejects.toThrow("nacked");
    expect(nacked.calls).toBe(1);
  });

  it("fails work that never settles with the deadline's error, and stops its timer after", async () => {
    const never = counter();
    await expect(
      deadline.watch(new Promise<void>(() => undefined), never.settled),
    ).rejects.toBeInstanceOf(PublishTimeoutError);
    expect(never.calls).toBe(1);
    await expect(deadline.watch(Promise.resolve(1), counter().settled)).resolves.toBe(1);
  });

  it("says a send settled once when its work settles after the deadline failed it", async () => {
    let confirm!: () => void;
    const late = new Promise<void>((resolve) => {
      confirm = resolve;
    });
    const calls = counter();
    await expect(deadline.watch(late, calls.settled)).rejects.toBeInstanceOf(PublishTimeoutError);
    confirm();
    await late; // watch's handler on `late` was attached first, so it has run by now
    expect(calls.calls).toBe(1);
  });

  it("fails each of many pending sends once", async () => {
    const calls = counter();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, () =>
        deadline.watch(new Promise(() => undefined), calls.settled),
      ),
    );
    expect(
      outcomes.every((o) => o.status === "rejected" && o.reason instanceof PublishTimeoutError),
    ).toBe(true);
    expect(calls.calls).toBe(100);
  });

  it("counts the time a send already waited (for a slot) against its deadline", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "performance"] });
    try {
      const second = new SendDeadline(1000, () => new PublishTimeoutError("late"));
      let failed = false;
      const waitedLong = second.watch(new Promise(() => undefined), counter().settled, 900);
      waitedLong.catch(() => {
        failed = true;
      });
      await vi.advanceTimersByTimeAsync(200);
      expect(failed).toBe(true);
      await expect(waitedLong).rejects.toBeInstanceOf(PublishTimeoutError);
    } finally {
      vi.useRealTimers();
    }
  });

  it("expires what add() was given, unless remove() took it back first", async () => {
    const expired: string[] = [];
    let swept!: () => void;
    const sweep = new Promise<void>((resolve) => {
      swept = resolve;
    });
    const now = performance.now();
    const removed = { expiresAt: now, expire: () => expired.push("removed") };
    const kept = { expiresAt: now, expire: () => expired.push("kept") };
    deadline.add(removed);
    deadline.add(kept);
    deadline.add({ expiresAt: now, expire: swept });
    expect(deadline.remove(removed)).toBe(true);
    await sweep;
    expect(expired).toEqual(["kept"]);
    expect(deadline.remove(kept)).toBe(false);
  });
});
