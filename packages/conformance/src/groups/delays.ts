import { type ExchangeType, InvalidOptionsError, type Message } from "@carrot/core";
import type { Collector } from "../collector.js";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { arrivalClock, expectOnTime, type SendTimes, timedSend } from "../delay-timing.js";
import { Endpoint } from "../endpoint.js";
import { expectExactly } from "../expect-messages.js";
import { untilPayload } from "../received.js";
import type { TestKit } from "../test-kit.js";

// Delayed delivery (`delayedDelivery`): `send(data, { delay })` is never
// delivered before its delay is up, counted from when the send was called
// (the broker cannot have had the message before), and no later than the
// suite's `delayToleranceMs` past it, counted from when the send resolved.
// Time passes on purpose here: the promise is about time. Without the
// capability every case proves the delay refused, nothing stored.

const SENTINEL = "end";
/** Not whole seconds: a backend that rounds to seconds (SQS) must round up, never down. */
const DELAY_MS = 1_500;
/** The short delays of the routing and not-held-back cases. */
const SHORT_MS = 500;

/**
 * Without `delayedDelivery`: a delayed send is refused with
 * UnsupportedFeatureError, and nothing of it is stored (the sentinel
 * sent next is all that arrives); a delay of 0 is no delay and goes
 * through.
 */
async function refusedWithout(t: TestKit): Promise<void> {
  const ep = new Endpoint(t, "q");
  const got = await t.collect(ep.consumer());
  const publisher = ep.publisher();
  await t.refused(() => publisher.send("delayed", { delay: DELAY_MS }));
  await publisher.send("no-delay", { delay: 0 });
  await publisher.send(SENTINEL);
  await untilPayload(got, SENTINEL);
  await t.nothingMoreOn(got);
  expectExactly(t.expect, got.items, ["no-delay", SENTINEL], "after the refused delayed send");
}

/** Collects with a clock, and a wait long enough for the longest delay the case sends. */
async function collectTimed(
  t: TestKit,
  ep: Endpoint,
  longestDelay: number,
): Promise<{ got: Collector<Message<string>>; at: (message: Message<string>) => number }> {
  const clock = arrivalClock<string>();
  const wait = longestDelay + t.delayToleranceMs + t.timeoutMs;
  const got = await t.collect(ep.consumer(), clock.settle, wait);
  return { got, at: clock.at };
}

const honoured: ConformanceCase = {
  id: "delay-honoured",
  title:
    "a delayed message arrives once, no sooner than its delay and within the stated tolerance after it (delayedDelivery)",
  async run(t) {
    if (!t.caps.delayedDelivery) return refusedWithout(t);
    const ep = new Endpoint(t, "q");
    const { got, at } = await collectTimed(t, ep, DELAY_MS);
    const publisher = ep.publisher();
    const sent = await timedSend(() => publisher.send("delayed", { delay: DELAY_MS }));
    const [message] = await untilPayload(got, "delayed");
    expectOnTime(t.expect, "the delayed message", at(message!), sent, DELAY_MS, t.delayToleranceMs);
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["delayed", SENTINEL], "a delayed message, then a sentinel");
    t.expect(
      { redelivered: message!.deliveryInfo.redelivered, deliveryCount: message!.deliveryCount },
      "a delayed message is a first delivery",
    ).toEqual({ redelivered: false, deliveryCount: 1 });
  },
};

const notHeldBack: ConformanceCase = {
  id: "delay-not-blocked",
  title:
    "a long delay sent first holds back neither a short one nor an undelayed one sent after it (delayedDelivery)",
  budget: 8,
  async run(t) {
    if (!t.caps.delayedDelivery) return refusedWithout(t);
    // Long enough that a short message held behind it would miss its own tolerance by far.
    const long = SHORT_MS + 2 * t.delayToleranceMs + 1_000;
    const ep = new Endpoint(t, "q");
    const { got, at } = await collectTimed(t, ep, long);
    const publisher = ep.publisher();
    const sends: [body: string, delay: number][] = [
      ["long", long],
      ["short", SHORT_MS],
      ["now", 0],
    ];
    const sent = new Map<string, SendTimes>();
    for (const [body, delay] of sends)
      sent.set(body, await timedSend(() => publisher.send(body, { delay })));
    await got.count(sends.length);
    for (const [body, delay] of sends) {
      const message = got.items.find((m) => m.payload === body);
      t.expect(message !== undefined, `'${body}' arrived`).toBe(true);
      const what = `'${body}' (delay ${delay} ms, sent after ${sends.findIndex(([b]) => b === body)} longer one(s))`;
      expectOnTime(t.expect, what, at(message!), sent.get(body)!, delay, t.delayToleranceMs);
    }
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["long", "short", "now", SENTINEL], "three delays");
  },
};

/** One exchange type's bindings: queues that must get the delayed message, and one that must not. */
const ROUTES: readonly {
  type: ExchangeType;
  key: string;
  hits: readonly string[];
  miss?: string;
}[] = [
  { type: "direct", key: "k", hits: ["k", "k"], miss: "other" },
  { type: "fanout", key: "any.key", hits: ["a", ""] },
  { type: "topic", key: "a.b", hits: ["a.*", "#"], miss: "b.#" },
];

const routed: ConformanceCase = {
  id: "delay-routing",
  title:
    "a delayed message is routed as an undelayed one: every bound queue of a direct, fanout or topic exchange gets it once, no other (delayedDelivery)",
  async run(t) {
    if (!t.caps.delayedDelivery) return refusedWithout(t);
    const clock = arrivalClock<string>();
    const wait = SHORT_MS + t.delayToleranceMs + t.timeoutMs;
    const queues: {
      queue: string;
      got: Collector<Message<string>>;
      route: (typeof ROUTES)[number];
      exchange: string;
      hit: boolean;
      sent?: SendTimes;
    }[] = [];
    for (const route of ROUTES.filter(({ type }) => t.caps.exchangeTypes.includes(type))) {
      const { type, key, hits, miss } = route;
      const exchange = t.name(`${type}-x`);
      const bindings: [routingKey: string, hit: boolean][] = hits.map((b) => [b, true]);
      if (miss !== undefined) bindings.push([miss, false]);
      const ofRoute = [];
      for (const [i, [routingKey, hit]] of bindings.entries()) {
        const queue = t.name(`${type}-${i}`);
        const consumer = t.consumer<string>(t.main, {
          queue,
          exchange,
          exchangeType: type,
          routingKey,
        });
        ofRoute.push({
          queue,
          got: await t.collect(consumer, clock.settle, wait),
          route,
          exchange,
          hit,
        });
      }
      const publisher = t.publisher<string>(t.main, { exchange, exchangeType: type });
      const sent = await timedSend(() =>
        publisher.send(type, { routingKey: key, delay: SHORT_MS }),
      );
      for (const q of ofRoute) queues.push({ ...q, sent });
    }
    for (const { got, hit } of queues) if (hit) await got.count(1);
    // Due and routed once for all its queues: a sentinel sent now comes after it on each.
    const direct = t.publisher<string>(t.main, { exchange: "" });
    for (const { queue } of queues) await direct.send(SENTINEL, { routingKey: queue });
    for (const { got } of queues) await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(...queues.map(({ got }) => got));
    for (const { got, route, exchange, hit, sent } of queues) {
      expectExactly(t.expect, got.items, hit ? [route.type, SENTINEL] : [SENTINEL], got.label);
      const message = got.items.find((m) => m.payload === route.type);
      if (!message) continue;
      expectOnTime(
        t.expect,
        `${got.label}'s copy`,
        clock.at(message),
        sent!,
        SHORT_MS,
        t.delayToleranceMs,
      );
      t.expect(
        { exchange: message.deliveryInfo.exchange, routingKey: message.deliveryInfo.routingKey },
        `${got.label}: where the delayed message says it came from`,
      ).toEqual({ exchange, routingKey: route.key });
    }
  },
};

/** Headers of every type, nested tables and tag look-alikes: a delay must carry them all. */
const HEADERS = {
  text: "value",
  int: 7,
  float: 2.25,
  yes: true,
  nothing: null,
  when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
  list: ["a", 1],
  table: { inner: "x", deeper: { n: 1 } },
  tagLike: { $date: 5, $d: "x" },
};

const sameData: ConformanceCase = {
  id: "delay-data",
  title:
    "a delayed message arrives exactly as its undelayed twin: body bytes (compressed), content type, properties, headers, exchange and key (delayedDelivery)",
  async run(t) {
    if (!t.caps.delayedDelivery) return refusedWithout(t);
    const ep = new Endpoint(t, "q");
    const got = await t.collect<unknown>(
      ep.consumer<unknown>(),
      "ack",
      SHORT_MS + t.delayToleranceMs + t.timeoutMs,
    );
    const publisher = t.publisher<unknown>(t.main, {
      exchange: ep.exchange,
      routingKey: ep.routingKey,
      serializer: "msgpack",
      compression: "gzip",
    });
    // Whole seconds: AMQP timestamps have a resolution of one second.
    const timestamp = new Date(Math.floor(Date.now() / 1000) * 1000);
    const options = {
      headers: HEADERS,
      correlationId: "corr-1",
      replyTo: "reply-queue",
      type: "feed.import",
      appId: "conformance",
      timestamp,
    };
    const data = { text: "carrot ".repeat(50), n: 42, list: [1, "two", null] };
    await publisher.send(data, { ...options, messageId: "delayed", delay: SHORT_MS });
    await publisher.send(data, { ...options, messageId: "undelayed" });
    await got.count(2);
    const twins = ["delayed", "undelayed"].map((id) => {
      const message = got.items.find((m) => m.properties.messageId === id);
      t.expect(message !== undefined, `the ${id} twin arrived`).toBe(true);
      return message!;
    });
    const seen = twins.map((m) => ({
      body: Array.from(m.body),
      contentType: m.contentType,
      contentEncoding: m.contentEncoding,
      properties: { ...m.properties, messageId: "(either)" },
      headers: { ...m.headers },
      exchange: m.deliveryInfo.exchange,
      routingKey: m.deliveryInfo.routingKey,
      redelivered: m.deliveryInfo.redelivered,
    }));
    // Nothing added on the way (no delay bookkeeping, no x-death from a delay queue), nothing lost.
    t.expect(seen[0], "the delayed message, beside its undelayed twin").toEqual(seen[1]);
    t.expect(twins[0]!.payload, "the delayed message's decoded payload").toEqual(data);
    t.expect(twins[0]!.headers.compression, "the compression header").toBe("application/x-gzip");
  },
};

const badDelays: ConformanceCase = {
  id: "delay-invalid",
  title:
    "delay with mandatory, and a delay that is not a whole number of ms >= 0, are refused with InvalidOptionsError, nothing sent (delayedDelivery)",
  async run(t) {
    if (!t.caps.delayedDelivery) return refusedWithout(t);
    const ep = new Endpoint(t, "q");
    const got = await t.collect(ep.consumer());
    const publisher = ep.publisher();
    // Whether a delayed message finds a queue is known only when it is due.
    await t
      .expect(publisher.send("mandatory", { delay: SHORT_MS, mandatory: true }))
      .rejects.toBeInstanceOf(InvalidOptionsError);
    for (const delay of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      await t
        .expect(publisher.send(`delay ${delay}`, { delay }))
        .rejects.toBeInstanceOf(InvalidOptionsError);
    await publisher.send("no-delay", { delay: 0 });
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["no-delay", SENTINEL], "after the refused sends");
  },
};

/** Delayed delivery: honoured within a tolerance, never held back by a longer delay, routed and carried as undelayed messages are. `describeDelays` runs it. */
export const delays: ConformanceGroup = {
  name: "delays",
  cases: [honoured, notHeldBack, routed, sameData, badDelays],
};
