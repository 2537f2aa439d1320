import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  DELAY_ATTRIBUTE,
  DUE_ATTRIBUTE,
  delayOnWire,
  dueTime,
  remainingDelay,
  sortArrivals,
} from "../src/delayed-delivery.js";
import { DELIVERIES_ATTRIBUTE, deliveryCount } from "../src/delivery-count.js";
import { COPY_RESERVE_BYTES, copyOf, entrySize } from "../src/message-copies.js";
import type { QueueInfo } from "../src/queue-directory.js";

// The rules, without SQS: what a send carries, when a received message is
// due, how many of its receives were deliveries, and what a copy carries.

const SENT = 1_700_000_000_000;
const HOUR = 3_600_000;

/** A received message as SQS hands it out, with carrot's envelope attribute. */
function received({
  delay,
  due,
  deliveries,
  first,
  count = 1,
  group,
}: {
  delay?: number;
  due?: number;
  deliveries?: number;
  first?: number;
  count?: number;
  group?: string;
}): Message {
  const attributes: Message["MessageAttributes"] = {
    carrot: { DataType: "String", StringValue: '{"v":1}' },
  };
  const number = (n: number) => ({ DataType: "Number", StringValue: String(n) });
  if (delay !== undefined) attributes[DELAY_ATTRIBUTE] = number(delay);
  if (due !== undefined) attributes[DUE_ATTRIBUTE] = number(due);
  if (deliveries !== undefined) attributes[DELIVERIES_ATTRIBUTE] = number(deliveries);
  return {
    Body: "x",
    MessageAttributes: attributes,
    Attributes: {
      SentTimestamp: String(SENT),
      ApproximateReceiveCount: String(count),
      ...(first === undefined ? {} : { ApproximateFirstReceiveTimestamp: String(first) }),
      ...(group === undefined ? {} : { MessageGroupId: group }),
    },
  };
}

describe("what a delayed send carries", () => {
  it("standard queue: DelaySeconds rounded up to whole seconds, up to the native maximum", () => {
    expect(delayOnWire(1, false, 900)).toEqual({ delaySeconds: 1 });
    expect(delayOnWire(1000, false, 900)).toEqual({ delaySeconds: 1 });
    expect(delayOnWire(1001, false, 900)).toEqual({ delaySeconds: 2 });
    expect(delayOnWire(900_000, false, 900)).toEqual({ delaySeconds: 900 });
  });

  it("standard queue past the native maximum: that much natively, the whole delay in the attribute", () => {
    expect(delayOnWire(900_001, false, 900)).toEqual({
      delaySeconds: 900,
      attribute: { DataType: "Number", StringValue: "900001" },
    });
    expect(delayOnWire(2500, false, 1)).toEqual({
      delaySeconds: 1,
      attribute: { DataType: "Number", StringValue: "2500" },
    });
  });

  it("FIFO queue: no DelaySeconds (SQS refuses it there), the delay in the attribute", () => {
    expect(delayOnWire(1, true, 900)).toEqual({
      attribute: { DataType: "Number", StringValue: "1" },
    });
  });

  it("keeps room in every message for what a copy adds, which covers the sender's delay", () => {
    const digits = String(Number.MAX_SAFE_INTEGER).length;
    const bytes = (name: string) => name.length + "Number".length + digits;
    expect(COPY_RESERVE_BYTES).toBe(bytes(DUE_ATTRIBUTE) + bytes(DELIVERIES_ATTRIBUTE));
    expect(COPY_RESERVE_BYTES).toBeGreaterThan(bytes(DELAY_ATTRIBUTE));
  });
});

describe("when a received message is due", () => {
  it("carrot-delay counts from SQS's SentTimestamp; carrot-due is absolute; neither: at once", () => {
    expect(dueTime(received({ delay: 5000 }))).toBe(SENT + 5000);
    expect(dueTime(received({ due: SENT + 7 }))).toBe(SENT + 7);
    expect(dueTime(received({}))).toBeUndefined();
    expect(dueTime({ Body: "foreign" })).toBeUndefined();
  });

  it("ignores an attribute that is not a number (another client's)", () => {
    const foreign = received({});
    foreign.MessageAttributes = {
      [DELAY_ATTRIBUTE]: { DataType: "Number", StringValue: "soon" },
    };
    expect(dueTime(foreign)).toBeUndefined();
  });

  it("on a copy's first receive, SQS's timestamp of that receive decides, not this host's clock", () => {
    const due = SENT + 5000;
    const early = received({ delay: 5000, first: SENT + 1000 });
    expect(remainingDelay(early, due, SENT + 9999)).toBe(4000); // a clock running ahead changes nothing
    const onTime = received({ delay: 5000, first: SENT + 5000 });
    expect(remainingDelay(onTime, due, SENT)).toBe(0); // nor one running behind
  });

  it("a copy first received due stays due; one held before is judged by the clock on later receives", () => {
    const due = SENT + 5000;
    expect(remainingDelay(received({ delay: 5000, first: due, count: 3 }), due, SENT)).toBe(0);
    const held = received({ delay: 5000, first: SENT + 10, count: 2 });
    expect(remainingDelay(held, due, SENT + 4000)).toBe(1000);
    expect(remainingDelay(held, due, SENT + 5000)).toBe(0);
  });
});

describe("the delivery count leaves out the receives that only held the message back", () => {
  const span = 43_140; // seconds one hold may last (SQS's 12 hours less a minute)

  it("is ApproximateReceiveCount for a message without a delay, or first received when due", () => {
    expect(deliveryCount(received({ count: 1 }), span)).toBe(1);
    expect(deliveryCount(received({ count: 4 }), span)).toBe(4);
    expect(deliveryCount(received({ delay: 1000, first: SENT + 1000, count: 2 }), span)).toBe(2);
  });

  it("takes one hold off for a delay within one hold span, however the receives fell", () => {
    const first = SENT + 20;
    expect(deliveryCount(received({ delay: 1500, first, count: 2 }), span)).toBe(1);
    expect(deliveryCount(received({ delay: 11 * HOUR, first, count: 3 }), span)).toBe(2); // requeued once
  });

  it("takes one hold off per span for longer delays (FIFO queues, or maxHold lowered)", () => {
    const first = SENT + 20;
    expect(deliveryCount(received({ delay: 30 * HOUR, first, count: 4 }), span)).toBe(1);
    expect(deliveryCount(received({ delay: 5500, first, count: 4 }), 2)).toBe(1);
    expect(deliveryCount(received({ delay: 5500, first, count: 5 }), 2)).toBe(2);
  });

  it("never counts below 1 (a copy held fewer times than reckoned, while nobody received it)", () => {
    expect(deliveryCount(received({ delay: 30 * HOUR, first: SENT, count: 2 }), span)).toBe(1);
  });

  it("adds the deliveries a copy carries from its original", () => {
    expect(deliveryCount(received({ deliveries: 2, count: 1 }), span)).toBe(3);
    const heldCopy = received({ deliveries: 1, due: SENT + 1500, first: SENT + 20, count: 2 });
    expect(deliveryCount(heldCopy, span)).toBe(2);
    expect(deliveryCount(received({ deliveries: -1, count: 1 }), span)).toBe(1); // not a count: none
  });
});

describe("a copy of a message received but not delivered", () => {
  const queue: QueueInfo = {
    name: "q",
    url: "http://sqs/q",
    fifo: false,
    contentBasedDeduplication: false,
    maxMessageSize: 262_144,
    retentionSeconds: 345_600,
  };

  it("carries its deliveries, not counting the receive it replaces, and keeps its fair-queue group", () => {
    const copy = copyOf(queue, received({ count: 3, group: "tenant" }), 43_140);
    expect(copy.attributes).toEqual({
      carrot: { DataType: "String", StringValue: '{"v":1}' },
      [DELIVERIES_ATTRIBUTE]: { DataType: "Number", StringValue: "2" },
    });
    expect(copy.ids).toEqual({ MessageGroupId: "tenant" });
    // Delivered from the copy, SQS counts 1: the third delivery in all.
    expect(
      deliveryCount({ ...received({ count: 1 }), MessageAttributes: copy.attributes }, 43_140),
    ).toBe(3);
  });

  it("of a first receive adds nothing; of a held one, its due time in place of the sender's delay", () => {
    expect(Object.keys(copyOf(queue, received({ count: 1 }), 43_140).attributes)).toEqual([
      "carrot",
    ]);
    const early = received({ delay: 5000, first: SENT + 1000, count: 1 });
    expect(copyOf(queue, early, 43_140, SENT + 5000).attributes).toEqual({
      carrot: { DataType: "String", StringValue: '{"v":1}' },
      [DUE_ATTRIBUTE]: { DataType: "Number", StringValue: String(SENT + 5000) },
    });
  });

  it("measures as SQS counts: body, and each attribute's name, type and value", () => {
    const copy = copyOf(queue, received({ count: 3 }), 43_140);
    const expected =
      1 +
      ("carrot".length + "String".length + 7) +
      (DELIVERIES_ATTRIBUTE.length + "Number".length + 1);
    expect(entrySize(copy)).toBe(expected);
  });
});

describe("sorting one receive", () => {
  const now = SENT + 100;

  it("returns the batch itself when nothing in it is delayed", () => {
    const batch = [received({}), received({})];
    expect(sortArrivals(batch, false, now).ready).toBe(batch);
  });

  it("holds back what is not due, and delivers the rest (standard queue: no order to keep)", () => {
    const early = received({ delay: 5000, first: now });
    const due = received({ delay: 50, first: now });
    const plain = received({});
    expect(sortArrivals([early, due, plain], false, now)).toEqual({
      ready: [due, plain],
      early: [{ message: early, remainingMs: 4900 }],
      behind: [],
    });
  });

  it("FIFO: gives back the due messages received behind a held one of their group, not those of other groups", () => {
    const a1 = received({ delay: 5000, first: now, group: "a" });
    const a2 = received({ first: now, group: "a" });
    const b1 = received({ first: now, group: "b" });
    const a3 = received({ delay: 9000, first: now, group: "a" });
    expect(sortArrivals([a1, a2, b1, a3], true, now)).toEqual({
      ready: [b1],
      early: [
        { message: a1, remainingMs: 4900 },
        { message: a3, remainingMs: 8900 },
      ],
      behind: [a2],
    });
  });

  it("FIFO: a due message ahead of a held one in its group is delivered", () => {
    const a1 = received({ first: now, group: "a" });
    const a2 = received({ delay: 5000, first: now, group: "a" });
    expect(sortArrivals([a1, a2], true, now).ready).toEqual([a1]);
  });
});
