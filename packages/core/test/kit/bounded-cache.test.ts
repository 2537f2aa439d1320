import { describe, expect, it } from "vitest";
import { BoundedCache } from "../../src/kit/bounded-cache.js";

describe("the bounded cache", () => {
  it("keeps what it is given, up to its bound", () => {
    const cache = new BoundedCache<string, number>(3);
    cache.set("a", 1);
    cache.set("b", 2);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, 2, undefined]);
  });

  it("empties itself when full, then keeps the new entry", () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([undefined, undefined, 3]);
  });

  it("deletes on request", () => {
    const cache = new BoundedCache<string, number>(10);
    cache.set("k", 1);
    cache.delete("k");
    expect(cache.get("k")).toBeUndefined();
  });
});
