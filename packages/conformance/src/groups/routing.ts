import { type ExchangeType, NotFoundError, UnroutableError } from "@carrot/core";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { expectExactly } from "../expect-messages.js";
import { untilPayload } from "../received.js";
import type { TestKit } from "../test-kit.js";

// Absence ("this key does not arrive") is proven with a sentinel: a message
// sent after the ones that must not arrive, routed to the same queue by an
// extra binding. Once the sentinel is in, anything routed earlier would be in
// too on an ordered backend; unordered backends add a bounded quiet period.
const SENTINEL = "end";

/** A case for an exchange type: run it if the backend routes that type, else prove it is refused. */
function exchangeTypeCase(
  type: ExchangeType,
  id: string,
  title: string,
  run: (t: TestKit) => Promise<void>,
): ConformanceCase {
  return {
    id,
    title,
    async run(t) {
      if (t.caps.exchangeTypes.includes(type)) return run(t);
      const name = t.trackExchange(t.name("x"));
      await t.refused(() => t.main.declareExchange({ name, type }));
    },
  };
}

const direct = exchangeTypeCase(
  "direct",
  "direct",
  "direct: exact key match; two queues bound with one key each get a copy; other keys do not arrive",
  async (t) => {
    const exchange = t.name("x");
    const queues = [t.name("a"), t.name("b")];
    const collectors = [];
    for (const queue of queues) {
      const consumer = t.consumer<string>(t.main, { queue, exchange, routingKey: "k1" });
      collectors.push(await t.collect(consumer));
      await t.main.bindQueue({ queue, exchange, routingKey: SENTINEL });
    }
    const publisher = t.publisher<string>(t.main, { exchange });
    // Keys that must not match k1: another key, another case, a prefix and an extension of it.
    for (const key of ["k1", "k2", "K1", "k", "k1.x"])
      await publisher.send(key, { routingKey: key });
    await publisher.send(SENTINEL, { routingKey: SENTINEL });
    for (const collector of collectors) await untilPayload(collector, SENTINEL);
    await t.nothingMoreOn(...collectors);
    for (const collector of collectors)
      expectExactly(t.expect, collector.items, [SENTINEL, "k1"], collector.label);
  },
);

const unroutable: ConformanceCase = {
  id: "unroutable",
  title:
    "direct: an unroutable message vanishes, or fails send with UnroutableError when mandatory",
  async run(t) {
    const exchange = t.name("x");
    const queue = t.name("q");
    const got = await t.collect(
      t.consumer<string>(t.main, { queue, exchange, routingKey: "bound" }),
    );
    const publisher = t.publisher<string>(t.main, { exchange });
    const expected = [SENTINEL];
    if (t.caps.mandatory) {
      await t
        .expect(publisher.send("refused", { routingKey: "nowhere", mandatory: true }))
        .rejects.toBeInstanceOf(UnroutableError);
      await publisher.send("routed", { routingKey: "bound", mandatory: true });
      expected.push("routed");
    } else {
      await t.refused(() => publisher.send("refused", { routingKey: "nowhere", mandatory: true }));
    }
    await publisher.send("vanished", { routingKey: "nowhere" });
    // A binding made later must not receive what was unroutable before it existed.
    await t.main.bindQueue({ queue, exchange, routingKey: "nowhere" });
    await publisher.send(SENTINEL, { routingKey: "nowhere" });
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, expected, got.label);
  },
};

const fanout = exchangeTypeCase(
  "fanout",
  "fanout",
  "fanout: every bound queue gets every message, whatever the key",
  async (t) => {
    const exchange = t.name("x");
    const collectors = [];
    for (const [label, routingKey] of [
      ["a", "a"],
      ["b", ""],
    ] as const) {
      const consumer = t.consumer<string>(t.main, {
        queue: t.name(label),
        exchange,
        exchangeType: "fanout",
        routingKey,
      });
      collectors.push(await t.collect(consumer));
    }
    const publisher = t.publisher<string>(t.main, { exchange, exchangeType: "fanout" });
    const keys = ["a", "", "other.key"];
    for (const key of keys) await publisher.send(`m:${key}`, { routingKey: key });
    await publisher.send(SENTINEL, { routingKey: "zzz" });
    for (const collector of collectors) await untilPayload(collector, SENTINEL);
    await t.nothingMoreOn(...collectors);
    for (const collector of collectors)
      expectExactly(
        t.expect,
        collector.items,
        [SENTINEL, "m:", "m:a", "m:other.key"],
        collector.label,
      );
  },
);

// The seed's table, with RabbitMQ (the reference) deciding the edge cases:
// "" is zero words, so `*` does not match it; "a..b" has an empty middle word.
const TOPIC_KEYS = ["usd.stock", "eur.stock.db", "stock.nasdaq", "", "usd", "a..b", "a.x.b", "a.b"];
const TOPIC_TABLE: readonly [pattern: string, label: string, matches: readonly string[]][] = [
  ["*.stock.#", "stock", ["usd.stock", "eur.stock.db"]],
  ["#", "hash", TOPIC_KEYS],
  ["*", "star", ["usd"]],
  ["a.*.b", "amb", ["a..b", "a.x.b"]],
];

const topic = exchangeTypeCase(
  "topic",
  "topic",
  "topic: *.stock.# / # / * / a.*.b match exactly as RabbitMQ's (empty key, empty words)",
  async (t) => {
    const exchange = t.name("x");
    const checks = [];
    for (const [pattern, label, matches] of TOPIC_TABLE) {
      const queue = t.name(label);
      const consumer = t.consumer<string>(t.main, {
        queue,
        exchange,
        exchangeType: "topic",
        routingKey: pattern,
      });
      const collector = await t.collect(consumer);
      // Also matched by "#" and "*": a message matching two bindings of one queue arrives once.
      await t.main.bindQueue({ queue, exchange, routingKey: SENTINEL });
      checks.push({ pattern, collector, expected: [...matches, SENTINEL] });
    }
    const publisher = t.publisher<string>(t.main, { exchange, exchangeType: "topic" });
    for (const key of TOPIC_KEYS) await publisher.send(key, { routingKey: key });
    await publisher.send(SENTINEL, { routingKey: SENTINEL });
    for (const { collector } of checks) await untilPayload(collector, SENTINEL);
    await t.nothingMoreOn(...checks.map((check) => check.collector));
    for (const { pattern, collector, expected } of checks) {
      expectExactly(t.expect, collector.items, expected, `the queue bound with '${pattern}'`);
    }
  },
);

const headers = exchangeTypeCase(
  "headers",
  "headers",
  "headers: x-match all needs every header, any needs one",
  async (t) => {
    const exchange = t.name("x");
    const wanted = { format: "pdf", type: "report" };
    const checks = [];
    for (const [mode, expected] of [
      ["all", ["both", SENTINEL]],
      ["any", ["both", "format-only", SENTINEL]],
    ] as const) {
      const queue = t.name(mode);
      const consumer = t.consumer<string>(t.main, {
        queue,
        exchange,
        exchangeType: "headers",
        bindingArguments: { "x-match": mode, ...wanted },
      });
      const collector = await t.collect(consumer);
      await t.main.bindQueue({
        queue,
        exchange,
        routingKey: "",
        arguments: { "x-match": "all", sentinel: "yes" },
      });
      checks.push({ mode, collector, expected: [...expected].sort() });
    }
    const publisher = t.publisher<string>(t.main, { exchange, exchangeType: "headers" });
    await publisher.send("both", { headers: { ...wanted, extra: 1 } });
    await publisher.send("format-only", { headers: { format: "pdf" } });
    await publisher.send("wrong-values", { headers: { format: "zip", type: "log" } });
    await publisher.send("no-headers");
    await publisher.send(SENTINEL, { headers: { sentinel: "yes" } });
    for (const { collector } of checks) await untilPayload(collector, SENTINEL);
    await t.nothingMoreOn(...checks.map((check) => check.collector));
    for (const { mode, collector, expected } of checks) {
      expectExactly(t.expect, collector.items, expected, `the queue bound with x-match ${mode}`);
    }
  },
);

const crossConnection: ConformanceCase = {
  id: "cross-conn",
  title:
    "cross-connection: a publisher on another Connection reaches a queue only the consumer declared",
  async run(t) {
    const exchange = t.name("x");
    const queue = t.name("q");
    const got = await t.collect(t.consumer<string>(t.main, { queue, exchange, routingKey: "k" }));
    // Another backend instance, as another process would have: it knows none of the bindings.
    const other = await t.connection();
    await t.publisher<string>(other, { exchange }).send("hello", { routingKey: "k" });
    const [message] = await got.count(1);
    t.expect(message!.payload).toBe("hello");
    const info = message!.deliveryInfo;
    t.expect(info).toEqual({
      exchange,
      routingKey: "k",
      redelivered: false,
      queue,
      consumerTag: info.consumerTag,
      // A first delivery, where the broker counts deliveries (not RabbitMQ's classic queues).
      ...("deliveryCount" in info ? { deliveryCount: 1 } : {}),
    });
  },
};

const unbind: ConformanceCase = {
  id: "unbind",
  title: "unbind stops delivery",
  async run(t) {
    const exchange = t.name("x");
    const queue = t.name("q");
    const got = await t.collect(t.consumer<string>(t.main, { queue, exchange, routingKey: "k" }));
    const publisher = t.publisher<string>(t.main, { exchange });
    await publisher.send("before", { routingKey: "k" });
    await untilPayload(got, "before");
    await t.main.unbindQueue({ queue, exchange, routingKey: "k" });
    if (t.caps.mandatory) {
      await t
        .expect(publisher.send("after-mandatory", { routingKey: "k", mandatory: true }))
        .rejects.toBeInstanceOf(UnroutableError);
    }
    await publisher.send("after", { routingKey: "k" });
    await t.main.bindQueue({ queue, exchange, routingKey: SENTINEL });
    await publisher.send(SENTINEL, { routingKey: SENTINEL });
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["before", SENTINEL], got.label);
  },
};

const deleteQueue: ConformanceCase = {
  id: "del-queue",
  title: "deleting a queue stops delivery to it, and its messages go with it",
  async run(t) {
    const exchange = t.name("x");
    const queue = t.name("q");
    const consumer = t.consumer<string>(t.main, { queue, exchange, routingKey: "k" });
    await consumer.declare();
    const publisher = t.publisher<string>(t.main, { exchange });
    await publisher.send("deleted-with-queue", { routingKey: "k" });
    await t.main.deleteQueue(queue);
    if (t.caps.mandatory) {
      await t
        .expect(publisher.send("after-mandatory", { routingKey: "k", mandatory: true }))
        .rejects.toBeInstanceOf(UnroutableError);
    }
    await publisher.send("after", { routingKey: "k" });
    // The same name declared again is a new, empty queue with no bindings.
    const again = t.consumer<string>(t.main, { queue });
    const got = await t.collect(again);
    await t.main.bindQueue({ queue, exchange, routingKey: SENTINEL });
    await publisher.send(SENTINEL, { routingKey: SENTINEL });
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, [SENTINEL], got.label);
  },
};

const deleteExchange: ConformanceCase = {
  id: "del-exchange",
  title: "deleting an exchange: sends to it fail with NotFoundError, and its bindings are gone",
  async run(t) {
    const exchange = t.name("x");
    const queue = t.name("q");
    const got = await t.collect(t.consumer<string>(t.main, { queue, exchange, routingKey: "k" }));
    const publisher = t.publisher<string>(t.main, { exchange });
    await publisher.send("before", { routingKey: "k" });
    await untilPayload(got, "before");
    await t.main.deleteExchange(exchange);
    await t
      .expect(publisher.send("to-nothing", { routingKey: "k" }))
      .rejects.toBeInstanceOf(NotFoundError);
    // Declared again, the exchange starts with no bindings: the old one must not route.
    await t.main.declareExchange({ name: exchange });
    await publisher.send("unbound", { routingKey: "k" });
    await t.main.bindQueue({ queue, exchange, routingKey: SENTINEL });
    await publisher.send(SENTINEL, { routingKey: SENTINEL });
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["before", SENTINEL], got.label);
  },
};

const passivePublisher: ConformanceCase = {
  id: "passive-publisher",
  title:
    "passive: a publisher to a missing exchange fails with NotFoundError and creates it not; to an existing one it sends, comparing no settings (checkExchange; refused without it)",
  async run(t) {
    const exchange = t.name("x");
    const publisher = t.publisher<string>(t.main, { exchange, routingKey: "k", passive: true });
    const backend = await t.main.ready();
    if (!backend.checkExchange) {
      await t.refused(() => publisher.send("unchecked"));
      return;
    }
    await t.expect(publisher.send("misspelt")).rejects.toBeInstanceOf(NotFoundError);
    await t.expect(publisher.declare()).rejects.toBeInstanceOf(NotFoundError);
    // Not created by the checks: it takes other settings than the publisher's defaults.
    const queue = t.name("q");
    const consumer = t.consumer<string>(t.main, {
      queue,
      exchange,
      routingKey: "k",
      durable: false,
    });
    const got = await t.collect(consumer);
    await publisher.send("checked");
    await untilPayload(got, "checked");
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["checked"], got.label);
  },
};

const undeclaredPublisher: ConformanceCase = {
  id: "declare-false-publisher",
  title:
    "declare: false: a publisher declares nothing; a send to a missing exchange fails with NotFoundError, to the exchange the infrastructure declared it arrives",
  async run(t) {
    const exchange = t.name("x");
    const publisher = t.publisher<string>(t.main, { exchange, routingKey: "k", declare: false });
    await publisher.declare();
    await t.expect(publisher.send("nowhere")).rejects.toBeInstanceOf(NotFoundError);
    const queue = t.name("q");
    const consumer = t.consumer<string>(t.main, {
      queue,
      exchange,
      routingKey: "k",
      durable: false,
    });
    const got = await t.collect(consumer);
    await publisher.send("arrives");
    await untilPayload(got, "arrives");
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["arrives"], got.label);
  },
};

/** Exchange types and bindings: direct, fanout, topic and headers routing, bindings seen across connections, unbind, deleted queues and exchanges, mandatory, passive and undeclared publishers. `describeRouting` runs it. */
export const routing: ConformanceGroup = {
  name: "routing",
  cases: [
    direct,
    unroutable,
    fanout,
    topic,
    headers,
    crossConnection,
    unbind,
    deleteQueue,
    deleteExchange,
    passivePublisher,
    undeclaredPublisher,
  ],
};
