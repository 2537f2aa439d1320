import { describe, expect, it } from "vitest";
import type { Message } from "../src/message.js";
import { UnsettledMessages } from "../src/unsettled-messages.js";

/** Stands for a Message: the list reads its `state` alone. */
function message(id: number): { id: number; state: string } {
  return { id, state: "pending" };
}

function settle(list: UnsettledMessages, m: { state: string }): void {
  m.state = "acked";
  list.settled();
}

describe("UnsettledMessages", () => {
  it("gives back exactly the unsettled ones, in the order they were added", () => {
    const list = new UnsettledMessages();
    const all = Array.from({ length: 5 }, (_, i) => message(i));
    for (const m of all) list.add(m as unknown as Message<unknown>);
    settle(list, all[1]!);
    settle(list, all[3]!);
    expect(list.takeAll().map((m) => (m as unknown as { id: number }).id)).toEqual([0, 2, 4]);
    expect(list.takeAll()).toEqual([]);
  });

  it("drops settled ones as it goes, keeping the unsettled ones and their order", () => {
    const list = new UnsettledMessages();
    const kept: number[] = [];
    // Far more than its slack: most settled at once, every 100th left unsettled.
    for (let i = 0; i < 10_000; i++) {
      const m = message(i);
      list.add(m as unknown as Message<unknown>);
      if (i % 100 === 0) kept.push(i);
      else settle(list, m);
    }
    expect(list.takeAll().map((m) => (m as unknown as { id: number }).id)).toEqual(kept);
  });
});
