import { describe, expect, it } from "vitest";
import type { RawMessage } from "../../src/contract.js";
import { newHeaders } from "../../src/envelope-json.js";
import { DecodeError, NotFoundError, PublishTimeoutError } from "../../src/errors.js";
import {
  deadLetterMessage,
  deadLetterQueues,
  deadLetterTarget,
  isDeadLetterReason,
  UNREADABLE_HEADER,
  unpublishedDeadLetter,
} from "../../src/kit/dead-lettering.js";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const T0_SECONDS = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

describe("deadLetterTarget", () => {
  it("is the dead-letter exchange with its routing key, else the message's own", () => {
    expect(deadLetterTarget({ deadLetterExchange: "dlx" }, "a.b")).toEqual({
      exchange: "dlx",
      routingKey: "a.b",
    });
    expect(
      deadLetterTarget({ deadLetterExchange: "", deadLetterRoutingKey: "dlq" }, "a.b"),
    ).toEqual({ exchange: "", routingKey: "dlq" });
  });

  it("is none without a dead-letter exchange, or with one that is not a name", () => {
    expect(deadLetterTarget({ deadLetterRoutingKey: "dlq" }, "a.b")).toBeUndefined();
    const stored = JSON.parse('{"deadLetterExchange": 7}');
    expect(deadLetterTarget(stored, "a.b")).toBeUndefined();
  });
});

describe("deadLetterMessage", () => {
  const message = {
    body: new Uint8Array([1, 2]),
    contentType: "application/json",
    headers: Object.assign(newHeaders(), { mine: 1 }),
    properties: { messageId: "m1", expiration: 100000 },
  };

  // What RabbitMQ 3.10.8 wrote for the same deaths, read through the amqplib
  // backend (x-death `time` in whole seconds, `original-expiration` as text).
  it("adds RabbitMQ's x-death record and x-first-death headers, and drops expiration", () => {
    const origin = { queue: "q", exchange: "src", routingKey: "a.b", reason: "rejected" } as const;
    const letter = deadLetterMessage(message, origin, T0);
    expect(letter.body).toBe(message.body);
    expect(letter.contentType).toBe("application/json");
    expect(letter.properties).toEqual({ messageId: "m1" });
    expect(letter.headers).toEqual({
      mine: 1,
      "x-death": [
        {
          count: 1,
          reason: "rejected",
          queue: "q",
          time: T0_SECONDS,
          exchange: "src",
          "routing-keys": ["a.b"],
          "original-expiration": "100000",
        },
      ],
      "x-first-death-reason": "rejected",
      "x-first-death-queue": "q",
      "x-first-death-exchange": "src",
    });
    // The message itself is left as it was.
    expect(message.properties.expiration).toBe(100000);
    expect(message.headers["x-death"]).toBeUndefined();
  });

  it("counts a second death in the same queue for the same reason, moved to the front as it was", () => {
    const first = deadLetterMessage(
      message,
      { queue: "q", exchange: "src", routingKey: "a.b", reason: "rejected" },
      T0,
    );
    const second = deadLetterMessage(
      first,
      { queue: "dlq", exchange: "dlx", routingKey: "a.b", reason: "rejected" },
      T0 + 2000,
    );
    const third = deadLetterMessage(
      second,
      { queue: "q", exchange: "", routingKey: "q", reason: "rejected" },
      T0 + 4000,
    );
    expect(third.headers["x-death"]).toEqual([
      {
        count: 2,
        reason: "rejected",
        queue: "q",
        time: T0_SECONDS,
        exchange: "src",
        "routing-keys": ["a.b"],
        "original-expiration": "100000",
      },
      {
        count: 1,
        reason: "rejected",
        queue: "dlq",
        time: new Date(T0_SECONDS.getTime() + 2000),
        exchange: "dlx",
        "routing-keys": ["a.b"],
      },
    ]);
    expect(third.headers["x-first-death-queue"]).toBe("q");
    expect(third.headers["x-first-death-exchange"]).toBe("src");
  });

  it("records another reason in the same queue as its own entry", () => {
    const expired = deadLetterMessage(
      { ...message, properties: {} },
      { queue: "q", exchange: "", routingKey: "q", reason: "expired" },
      T0,
    );
    const rejected = deadLetterMessage(
      expired,
      { queue: "q", exchange: "", routingKey: "q", reason: "rejected" },
      T0,
    );
    const deaths = rejected.headers["x-death"] as { reason: string; count: number }[];
    expect(deaths.map((d) => [d.reason, d.count])).toEqual([
      ["rejected", 1],
      ["expired", 1],
    ]);
    expect(rejected.headers["x-first-death-reason"]).toBe("expired");
  });

  it("starts again from an x-death that is not a list, and keeps entries that are not records", () => {
    const origin = { queue: "q", exchange: "", routingKey: "q", reason: "maxlen" } as const;
    const broken = { ...message, headers: { "x-death": "garbage" } };
    expect((deadLetterMessage(broken, origin, T0).headers["x-death"] as unknown[]).length).toBe(1);
    const mixed = { ...message, headers: { "x-death": ["odd", { queue: "q", reason: "maxlen" }] } };
    expect(deadLetterMessage(mixed, origin, T0).headers["x-death"]).toEqual([
      { queue: "q", reason: "maxlen", count: 1 },
      "odd",
    ]);
  });

  it("keeps a header named __proto__ a header, and leaves the prototype alone", () => {
    const headers = Object.assign(newHeaders(), JSON.parse('{"__proto__": {"polluted": 1}}'));
    const origin = { queue: "q", exchange: "", routingKey: "q", reason: "rejected" } as const;
    const letter = deadLetterMessage({ ...message, headers }, origin, T0);
    expect(Object.hasOwn(letter.headers, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((letter.headers as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("makes an unreadable message a readable letter: its body, x-death and why it was unreadable", () => {
    const unreadable = {
      body: new Uint8Array([9]),
      headers: newHeaders(),
      properties: {},
      unreadable: new DecodeError("the entry's envelope is not JSON"),
    };
    const origin = { queue: "q", exchange: "", routingKey: "", reason: "rejected" } as const;
    const letter = deadLetterMessage(unreadable, origin, T0);
    expect(letter.unreadable).toBeUndefined();
    expect(letter.body).toBe(unreadable.body);
    expect(letter.headers[UNREADABLE_HEADER]).toBe("the entry's envelope is not JSON");
    expect((letter.headers["x-death"] as { queue: string }[])[0]?.queue).toBe("q");
  });
});

describe("unpublishedDeadLetter", () => {
  it("rethrows a failed connection, drops a missing exchange quietly, and reports the rest", () => {
    const timeout = new PublishTimeoutError("no answer");
    expect(() => unpublishedDeadLetter(timeout)).toThrow(timeout);
    expect(unpublishedDeadLetter(new NotFoundError("no exchange 'dlx'"))).toBeUndefined();
    const tooLarge = new Error("too large with its x-death record");
    expect(unpublishedDeadLetter(tooLarge)).toBe(tooLarge);
  });
});

describe("isDeadLetterReason", () => {
  it("knows RabbitMQ's reasons only", () => {
    expect(
      ["rejected", "expired", "maxlen", "delivery_limit", undefined].map(isDeadLetterReason),
    ).toEqual([true, true, true, false, false]);
  });
});

describe("deadLetterQueues", () => {
  const base: RawMessage = { body: new Uint8Array(), headers: newHeaders(), properties: {} };
  const died = (queue: string, reason: "rejected" | "expired" | "maxlen", letter = base) =>
    deadLetterMessage(letter, { queue, exchange: "x", routingKey: "k", reason }, T0);

  it("drops a queue the letter died in when every death since was automatic", () => {
    const once = died("a", "maxlen");
    expect(deadLetterQueues(once, ["a", "b"])).toEqual(["b"]);
    const round = died("b", "expired", died("a", "expired"));
    expect(deadLetterQueues(round, ["a", "c"])).toEqual(["c"]);
  });

  it("keeps a cycle that has a rejection in it, and queues the letter never died in", () => {
    const round = died("b", "expired", died("a", "rejected"));
    expect(deadLetterQueues(round, ["a"])).toEqual(["a"]);
    expect(deadLetterQueues(died("a", "rejected"), ["a"])).toEqual(["a"]);
    expect(deadLetterQueues(base, ["a"])).toEqual(["a"]);
  });

  it("reads a foreign x-death without trusting it", () => {
    // As RabbitMQ reads it: an entry that is not a record breaks a cycle, one without a reason is automatic.
    const junk = Object.assign(newHeaders(), { "x-death": ["junk", { queue: "a" }] });
    expect(deadLetterQueues({ ...base, headers: junk }, ["a"])).toEqual(["a"]);
    const reasonless = Object.assign(newHeaders(), { "x-death": [{ queue: "a" }] });
    expect(deadLetterQueues({ ...base, headers: reasonless }, ["a"])).toEqual([]);
    const notAList = Object.assign(newHeaders(), { "x-death": "a" });
    expect(deadLetterQueues({ ...base, headers: notAList }, ["a"])).toEqual(["a"]);
  });
});
