import { MessageStateError, UnsupportedFeatureError } from "@carrot/core";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { Endpoint } from "../endpoint.js";
import { expectExactly } from "../expect-messages.js";
import { fetchMessages } from "../fetch-messages.js";
import { untilPayload } from "../received.js";
import type { TestKit } from "../test-kit.js";
import { deferred, delay } from "../wait-for.js";

// On a backend with `leases` a delivery is the consumer's only for a while
// (SQS's visibility timeout, Redis's reclaim time): unless it is kept alive
// it goes to another consumer. These cases hold messages past that time,
// on connections whose leases are short (the `leases` option), while a
// competing consumer on another connection takes whatever comes back. The
// hold is the one place the suite lets time pass on purpose: the promise
// itself is about time. Nothing is timed: whatever the wait, a kept lease
// shows nothing to the competitor.

const SENTINEL = "end";
/** How many lease times a message is held: past its first expiry, and the reclaim or poll after it. */
const HELD_FOR = 2;

/** A consumer on another connection, taking whatever the lease holder loses. */
async function competitor(t: TestKit, ep: Endpoint) {
  const { connection } = await t.leaseConnection();
  return t.collect(ep.consumer(connection));
}

/** Without `leases` there is no lease to extend: extend() is refused, not ignored. */
async function refusedWithoutLeases(t: TestKit): Promise<void> {
  const ep = new Endpoint(t, "q");
  const held = await t.collect(ep.consumer(), "hold");
  await ep.publisher().send("m1");
  const [message] = await held.count(1);
  await t.expect(message!.extend(5)).rejects.toBeInstanceOf(UnsupportedFeatureError);
  await message!.ack();
}

const leaseKept: ConformanceCase = {
  id: "lease-kept",
  title:
    "leases: messages held past the lease time, in a callback and unsettled after it, are not delivered to another consumer (leases)",
  budget: 8,
  async run(t) {
    if (!t.caps.leases) return refusedWithoutLeases(t);
    const { connection, leaseMs } = await t.leaseConnection();
    const ep = new Endpoint(t, "q");
    const released = deferred();
    // m1 stays in its callback; m2's callback returns and leaves it unsettled.
    const holding = ep.consumer(connection, { prefetchCount: 2 });
    const held = await t.collect(holding, async (message) => {
      if (message.payload === "m1") await released.promise;
    });
    const publisher = ep.publisher();
    await publisher.send("m1");
    await publisher.send("m2");
    await held.count(2);
    const others = await competitor(t, ep);
    t.begin(`holding m1 and m2 for ${HELD_FOR} lease times (${HELD_FOR * leaseMs} ms)`);
    await delay(HELD_FOR * leaseMs);
    expectExactly(t.expect, others.items, [], "the competing consumer while m1 and m2 are held");
    released.resolve();
    await Promise.all(held.items.map((m) => m.ack()));
    await holding.close();
    await publisher.send(SENTINEL);
    await untilPayload(others, SENTINEL);
    await t.nothingMoreOn(others);
    expectExactly(t.expect, held.items, ["m1", "m2"], "the lease holder");
    expectExactly(t.expect, others.items, [SENTINEL], "the competing consumer, in the end");
  },
};

const leaseExtended: ConformanceCase = {
  id: "lease-extend",
  title:
    "leases: message.extend() keeps a fetched message past its lease time; after a settle it throws MessageStateError (leases)",
  budget: 8,
  async run(t) {
    if (!t.caps.leases) return refusedWithoutLeases(t);
    const { connection, leaseMs } = await t.leaseConnection();
    const ep = new Endpoint(t, "q");
    await ep.consumer(connection).declare();
    await ep.publisher().send("m1");
    // fetch(): a message no subscription keeps alive, only extend() does.
    const [message] = await fetchMessages(ep.consumer(connection), 1, t.timeoutMs);
    const seconds = Math.ceil(((HELD_FOR + 2) * leaseMs) / 1000);
    await message!.extend(seconds);
    const others = await competitor(t, ep);
    t.begin(`holding the fetched m1 for ${HELD_FOR} lease times after extend(${seconds})`);
    await delay(HELD_FOR * leaseMs);
    expectExactly(t.expect, others.items, [], "the competing consumer while m1 is extended");
    await message!.ack();
    await t.expect(message!.extend(seconds)).rejects.toBeInstanceOf(MessageStateError);
    await ep.publisher().send(SENTINEL);
    await untilPayload(others, SENTINEL);
    await t.nothingMoreOn(others);
    expectExactly(t.expect, others.items, [SENTINEL], "the competing consumer, in the end");
  },
};

const leaseAfterWait: ConformanceCase = {
  id: "lease-after-wait",
  title:
    "leases: a callback still running after wait({ limit }) stopped consuming keeps its message past the lease time, and its ack succeeds (leases)",
  budget: 8,
  async run(t) {
    if (!t.caps.leases) return refusedWithoutLeases(t);
    const { connection, leaseMs } = await t.leaseConnection();
    const ep = new Endpoint(t, "q");
    const started = deferred();
    const released = deferred();
    let acked: Promise<unknown> = Promise.resolve("not acked");
    const worker = ep.consumer(connection).registerCallback(async (_data, message) => {
      started.resolve();
      await released.promise;
      acked = message.ack().then(
        () => undefined,
        (error: unknown) => error,
      );
      await acked;
    });
    await worker.declare();
    // The limit ends the subscription as m1 starts; its callback runs on.
    const working = worker.wait({ limit: 1 });
    const publisher = ep.publisher();
    await publisher.send("m1");
    await started.promise;
    const others = await competitor(t, ep);
    t.begin(`holding m1 in its callback for ${HELD_FOR} lease times after the subscription ended`);
    await delay(HELD_FOR * leaseMs);
    expectExactly(t.expect, others.items, [], "the competing consumer while m1 is in its callback");
    released.resolve();
    await working;
    t.expect(await acked, "the ack of the held m1 (a lapsed lease fails it)").toBe(undefined);
    await publisher.send(SENTINEL);
    await untilPayload(others, SENTINEL);
    await t.nothingMoreOn(others);
    expectExactly(t.expect, others.items, [SENTINEL], "the competing consumer, in the end");
  },
};

/** Leases kept alive while a message is held, and `extend`. For backends with `leases`; needs `SuiteOptions.leases`; `describeLeases` runs it. */
export const leases: ConformanceGroup = {
  name: "leases",
  cases: [leaseKept, leaseExtended, leaseAfterWait],
};
