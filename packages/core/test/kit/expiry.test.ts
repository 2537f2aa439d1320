import { describe, expect, it } from "vitest";
import { isExpired, overflowCount, timeToLive } from "../../src/kit/expiry.js";

describe("timeToLive", () => {
  it("is the smaller of the queue's messageTtl and the message's expiration", () => {
    expect(timeToLive({ messageTtl: 50 }, 20)).toBe(20);
    expect(timeToLive({ messageTtl: 20 }, 50)).toBe(20);
    expect(timeToLive({ messageTtl: 50 }, undefined)).toBe(50);
    expect(timeToLive({}, 30)).toBe(30);
    expect(timeToLive({}, 0)).toBe(0);
  });

  it("is none when neither is set", () => {
    expect(timeToLive({}, undefined)).toBeUndefined();
  });
});

describe("isExpired", () => {
  it("is true from the deadline on, never without one", () => {
    expect(isExpired(1000, 999)).toBe(false);
    expect(isExpired(1000, 1000)).toBe(true);
    expect(isExpired(1000, 1001)).toBe(true);
    expect(isExpired(undefined, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe("overflowCount", () => {
  it("is how many of the oldest a queue over its maxLength gives up", () => {
    expect(overflowCount({ maxLength: 3 }, 5)).toBe(2);
    expect(overflowCount({ maxLength: 3 }, 3)).toBe(0);
    expect(overflowCount({ maxLength: 0 }, 1)).toBe(1);
    expect(overflowCount({}, 1_000_000)).toBe(0);
  });
});
