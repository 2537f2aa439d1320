import { describe, expect, it } from "vitest";
import { Deque } from "../src/deque.js";

describe("Deque", () => {
  it("keeps FIFO order across growth, with pushes at both ends", () => {
    const deque = new Deque<number>();
    for (let i = 0; i < 100; i++) deque.push(i);
    for (let i = 0; i < 50; i++) expect(deque.shift()).toBe(i);
    for (let i = 100; i < 200; i++) deque.push(i);
    deque.unshift(49);
    expect(deque.length).toBe(151);
    const out: number[] = [];
    for (let item = deque.shift(); item !== undefined; item = deque.shift()) out.push(item);
    expect(out).toEqual(Array.from({ length: 151 }, (_, i) => i + 49));
    expect(deque.shift()).toBeUndefined();
  });

  it("clear reports how many it dropped", () => {
    const deque = new Deque<string>();
    deque.push("a");
    deque.push("b");
    expect(deque.clear()).toBe(2);
    expect(deque.length).toBe(0);
    expect(deque.peek()).toBeUndefined();
  });
});
