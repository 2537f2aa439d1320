import { describe, expect, it } from "vitest";
import { PublishTimeoutError } from "../src/errors.js";
import { SendDeadline } from "../src/send-deadline.js";

describe("SendDeadline", () => {
  const deadline = new SendDeadline(50, () => new PublishTimeoutError("no confirm within 50 ms"));

  it("passes on the outcome of work that settles in time", async () => {
    await expect(deadline.watch(Promise.resolve("confirmed"))).resolves.toBe("confirmed");
    await expect(deadline.watch(Promise.reject(new Error("nacked")))).rejects.toThrow("nacked");
  });

  it("fails work that never settles with the deadline's error, and stops its timer after", async () => {
    const never = new Promise<void>(() => undefined);
    await expect(deadline.watch(never)).rejects.toBeInstanceOf(PublishTimeoutError);
    await expect(deadline.watch(Promise.resolve(1))).resolves.toBe(1);
  });

  it("fails each of many pending sends once", async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, () => deadline.watch(new Promise(() => undefined))),
    );
    expect(
      outcomes.every((o) => o.status === "rejected" && o.reason instanceof PublishTimeoutError),
    ).toBe(true);
  });
});
