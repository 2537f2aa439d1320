import { describe, expect, it } from "vitest";
import { InFlightLimit, SlotWait } from "../src/in-flight-limit.js";

/** A wait that records the slots it is granted, and takes them unless told to decline. */
class Waiter extends SlotWait {
  granted = 0;
  constructor(
    readonly name: string,
    readonly log: string[],
    readonly takes = true,
  ) {
    super();
  }

  grant(): boolean {
    this.log.push(this.name);
    if (this.takes) this.granted++;
    return this.takes;
  }
}

describe("InFlightLimit", () => {
  it("grants slots at once under the limit, then passes freed ones in arrival order", () => {
    const limit = new InFlightLimit(1);
    const log: string[] = [];
    expect(limit.tryAcquire()).toBe(true);
    expect(limit.tryAcquire()).toBe(false);
    limit.enqueue(new Waiter("a", log));
    limit.enqueue(new Waiter("b", log));
    expect(limit.waiting).toBe(2);
    limit.release();
    limit.release();
    expect(log).toEqual(["a", "b"]);
    expect(limit.running).toBe(1);
    expect(limit.waiting).toBe(0);
  });

  it("a withdrawn wait leaves the queue at once, from anywhere in it", () => {
    const limit = new InFlightLimit(1);
    const log: string[] = [];
    limit.tryAcquire();
    const waits = Array.from({ length: 1000 }, (_, i) => new Waiter(String(i), log));
    for (const wait of waits) limit.enqueue(wait);
    for (const [i, wait] of waits.entries()) if (i !== 500) expect(limit.withdraw(wait)).toBe(true);
    expect(limit.waiting).toBe(1);
    limit.release();
    expect(log).toEqual(["500"]);
    expect(limit.waiting).toBe(0);
    expect(limit.running).toBe(1);
    expect(limit.withdraw(waits[500]!)).toBe(false);
  });

  it("a slot declined goes on to the next wait, without recursion however many decline", () => {
    const limit = new InFlightLimit(1);
    const log: string[] = [];
    limit.tryAcquire();
    for (let i = 0; i < 100_000; i++) limit.enqueue(new Waiter("late", log, false));
    const taker = new Waiter("on time", log);
    limit.enqueue(taker);
    limit.release();
    expect(log).toHaveLength(100_001);
    expect(taker.granted).toBe(1);
    expect(limit.waiting).toBe(0);
    // With no one to take it, a released slot is free again.
    limit.release();
    expect(limit.running).toBe(0);
  });

  it("tells each wait when it becomes the first in the queue", () => {
    const limit = new InFlightLimit(1);
    const heads: string[] = [];
    class Head extends Waiter {
      override atHead(): void {
        heads.push(this.name);
      }
    }
    limit.tryAcquire();
    const [a, b, c] = ["a", "b", "c"].map((name) => new Head(name, []));
    for (const wait of [a, b, c]) limit.enqueue(wait!);
    expect(heads).toEqual(["a"]);
    limit.withdraw(b!); // not the first: no one new at the head
    expect(heads).toEqual(["a"]);
    limit.release(); // a takes the slot; c is first now
    expect(heads).toEqual(["a", "c"]);
  });

  it("idle resolves once nothing is in flight", async () => {
    const limit = new InFlightLimit(2);
    limit.tryAcquire();
    const idle = limit.idle();
    limit.release();
    await expect(idle).resolves.toBeUndefined();
  });
});
