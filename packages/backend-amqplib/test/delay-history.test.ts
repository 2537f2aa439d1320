import { type Headers, newHeaders } from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import { DELAYED_HISTORY, restoreHistory, stashHistory } from "../src/delay-history.js";

const DELAY_QUEUE = "carrot.delay.orders.1024ms";
const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

function headers(values: Record<string, unknown>): Headers {
  return Object.assign(newHeaders(), values) as Headers;
}

/** What RabbitMQ adds when a delay queue lets a message go that carries no first death. */
function delayDeath(extra: Record<string, unknown> = {}) {
  return {
    "x-death": [
      {
        count: 1,
        reason: "expired",
        queue: DELAY_QUEUE,
        time: when,
        exchange: DELAY_QUEUE,
        "routing-keys": ["k"],
      },
    ],
    "x-first-death-exchange": DELAY_QUEUE,
    "x-first-death-queue": DELAY_QUEUE,
    "x-first-death-reason": "expired",
    ...extra,
  };
}

describe("a delayed message's dead-letter history", () => {
  it("leaves headers without a history as they are, the same object", () => {
    const plain = headers({ a: 1 });
    expect(stashHistory(plain)).toBe(plain);
    expect(restoreHistory(plain)).toBe(plain);
    // An x-death from anywhere but a delay queue is none of the delay's business.
    const other = headers({ "x-death": [{ count: 1, reason: "expired", queue: "orders" }] });
    expect(restoreHistory(other)).toBe(other);
  });

  it("takes the delay queue's traces off a message that had no history", () => {
    expect(restoreHistory(headers({ a: 1, ...delayDeath() }))).toEqual({ a: 1 });
  });

  it("hides the history from RabbitMQ while the message waits, and puts it back when it arrives", () => {
    const history = {
      "x-death": [{ count: 2, reason: "maxlen", queue: "orders", time: when, exchange: "shop" }],
      "x-first-death-exchange": "shop",
      "x-first-death-queue": "orders",
      "x-first-death-reason": "maxlen",
    };
    const sent = headers({ a: 1, ...history });
    const waiting = stashHistory(sent);
    expect(waiting).toEqual({ a: 1, [DELAYED_HISTORY]: history });
    // RabbitMQ adds its own when the delay queue dead-letters it.
    expect(restoreHistory(headers({ ...waiting, ...delayDeath() }))).toEqual(sent);
  });

  it("counts an event that happened before and after the delay once, as RabbitMQ does", () => {
    const before = { count: 1, reason: "rejected", queue: "orders", time: when, exchange: "shop" };
    const waiting = stashHistory(
      headers({
        "x-death": [before],
        "x-first-death-queue": "orders",
        "x-first-death-reason": "rejected",
        "x-first-death-exchange": "shop",
      }),
    );
    const later = new Date(when.getTime() + 60_000);
    const received = headers({
      ...waiting,
      ...delayDeath(),
      "x-death": [
        { count: 1, reason: "rejected", queue: "orders", time: later, exchange: "shop" },
        { count: 1, reason: "expired", queue: "audit", time: later, exchange: "" },
        ...delayDeath()["x-death"],
      ],
    });
    expect(restoreHistory(received)).toEqual({
      "x-death": [
        { ...before, count: 2 },
        { count: 1, reason: "expired", queue: "audit", time: later, exchange: "" },
      ],
      "x-first-death-queue": "orders",
      "x-first-death-reason": "rejected",
      "x-first-death-exchange": "shop",
    });
  });

  it("takes the first death from the oldest event after the delay when there was none before", () => {
    const received = headers({
      ...delayDeath(),
      "x-death": [
        { count: 1, reason: "rejected", queue: "orders", exchange: "shop" },
        ...delayDeath()["x-death"],
      ],
    });
    expect(restoreHistory(received)).toEqual({
      "x-death": [{ count: 1, reason: "rejected", queue: "orders", exchange: "shop" }],
      "x-first-death-exchange": "shop",
      "x-first-death-queue": "orders",
      "x-first-death-reason": "rejected",
    });
  });

  it("restores the last death headers of RabbitMQ 3.13 and later the same way", () => {
    const last = {
      "x-last-death-exchange": "shop",
      "x-last-death-queue": "orders",
      "x-last-death-reason": "expired",
    };
    const waiting = stashHistory(headers({ "x-death": [], ...last }));
    const received = headers({
      ...waiting,
      ...delayDeath(),
      "x-last-death-exchange": DELAY_QUEUE,
      "x-last-death-queue": DELAY_QUEUE,
      "x-last-death-reason": "expired",
    });
    expect(restoreHistory(received)).toEqual({ "x-death": [], ...last });
  });

  it("keeps a history RabbitMQ cannot read as it was sent", () => {
    for (const unreadable of [[1, 2], "hello", [{ count: "x", reason: "expired", queue: "q" }]]) {
      const sent = headers({ "x-death": unreadable });
      const waiting = stashHistory(sent);
      expect(waiting["x-death"]).toBeUndefined();
      expect(restoreHistory(headers({ ...waiting, ...delayDeath() }))).toEqual(sent);
    }
  });

  it("reads any forged stash without throwing", () => {
    for (const forged of [null, 5, "x", [1], { "x-death": "x" }, { "x-first-death-queue": 5 }]) {
      const received = headers({ ...delayDeath(), [DELAYED_HISTORY]: forged });
      expect(() => restoreHistory(received)).not.toThrow();
      expect(restoreHistory(received)[DELAYED_HISTORY]).toBeUndefined();
    }
  });
});
