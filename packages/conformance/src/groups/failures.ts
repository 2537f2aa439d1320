import { CallbackError, type Connection, type ConsumerOptions, type Message } from "@carrot/core";
import { startChild } from "../child-process.js";
import type { Collector } from "../collector.js";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { arrivalClock } from "../delay-timing.js";
import { deadLetterRoute, Endpoint } from "../endpoint.js";
import { expectExactly, expectInOrder } from "../expect-messages.js";
import { fetchMessages } from "../fetch-messages.js";
import { untilPayload, untilPayloadCount } from "../received.js";
import type { ConsumerError, TestKit } from "../test-kit.js";

// The failure policy (the consumer's `retry` option), on every backend:
// a failing message is tried `attempts` times in all, `backoff` apart, each
// retry a copy sent to its queue alone with a failure record; then it goes
// where `exhausted` says, and every step is reported once on the consumer's
// `error` event. `message.deliveryCount` counts deliveries across retries,
// requeues and crashed consumers. Waits are events; the only timing
// asserted is the backoff's, which is the promise itself.

const SENTINEL = "end";

/** Thrown by the cases' callbacks: its name and message must reach the failure record. */
class FlakyError extends Error {
  override name = "FlakyError";
}

/** A callback body that fails every delivery of every message but the sentinel. */
function failing(message: Message<string>): Promise<void> {
  if (message.payload === SENTINEL) return message.ack();
  throw new FlakyError(`${message.payload} failed on delivery ${message.deliveryCount}`);
}

type Retry = NonNullable<ConsumerOptions<string>["retry"]>;

/** Exactly `initial`, then `initial * 2`, never above `max`: waits that can be checked. */
function fixedBackoff(initial: number, max = 60_000): Retry["backoff"] {
  return { initial, factor: 2, max, jitter: "none" };
}

/**
 * What a queue holds, proven as every case proves absence: a consumer
 * takes `expected`, then a sentinel sent to the queue alone (the default
 * exchange) must be all that follows (`TestKit.nothingMoreOn`).
 */
async function expectHolds(
  t: TestKit,
  queue: string,
  expected: readonly string[],
  where: string,
): Promise<Message<string>[]> {
  const got = await t.collect(t.consumer<string>(t.main, { queue }));
  await got.count(expected.length);
  await t.publisher<string>(t.main, { exchange: "" }).send(SENTINEL, { routingKey: queue });
  await untilPayload(got, SENTINEL);
  await t.nothingMoreOn(got);
  expectExactly(t.expect, got.items, [...expected, SENTINEL], where);
  return got.items.filter((m) => m.payload !== SENTINEL);
}

/** Sends the sentinel to the endpoint and proves that nothing else came after `got`'s deliveries. */
async function nothingMoreAfter(
  t: TestKit,
  ep: Endpoint,
  got: Collector<Message<string>>,
): Promise<void> {
  await ep.publisher().send(SENTINEL);
  await untilPayload(got, SENTINEL);
  await t.nothingMoreOn(got);
}

function deliveriesOf(got: Collector<Message<string>>, payload: string): Message<string>[] {
  return got.items.filter((m) => m.payload === payload);
}

/**
 * The backoff a report of a retry states: "retried in 200 ms (attempt 1 of
 * 3)", or on a backend that cannot delay, "retried at once ...; ... the
 * backoff of 200 ms was skipped".
 */
function reportedWait(report: ConsumerError<string>): number {
  const { message } = report.error;
  const [, delayed, skipped] =
    /retried in (\d+) ms|backoff of (\d+) ms was skipped/.exec(message) ?? [];
  const wait = delayed ?? skipped;
  if (wait === undefined)
    throw new Error(`a retry's report does not say its backoff ("retried in N ms"): ${message}`);
  return Number(wait);
}

/** The reports are CallbackErrors about `payload`, caused by the callback's own errors, in order. */
function expectReports(
  t: TestKit,
  reports: readonly ConsumerError<string>[],
  payload: string,
  causes: readonly string[],
): void {
  t.expect(
    reports.map((r) => ({
      callbackError: r.error instanceof CallbackError,
      about: r.message?.payload,
      cause: (r.error.cause as Error | undefined)?.message,
    })),
    `the consumer's error events about '${payload}': ${reports.map((r) => r.error.message).join(" | ")}`,
  ).toEqual(causes.map((cause) => ({ callbackError: true, about: payload, cause })));
}

/**
 * The failure record of an exhausted copy: `attempts`, the last error, the
 * first failure no later than the last, both within the case (to the
 * second: RabbitMQ's tables hold seconds), and where the message was first
 * published.
 */
function expectRecord(
  t: TestKit,
  copy: Message<string>,
  ep: Endpoint,
  expected: { attempts: number; error?: string; since: number },
): void {
  const record = copy.failure;
  const where = `the failure record of '${copy.payload}' (headers: ${JSON.stringify(copy.headers)})`;
  t.expect(record !== undefined, `${where} is there`).toBe(true);
  const { attempts, errorName, errorMessage, originalExchange, originalRoutingKey } = record!;
  t.expect(
    { attempts, errorName, errorMessage, originalExchange, originalRoutingKey },
    where,
  ).toEqual({
    attempts: expected.attempts,
    errorName: expected.error === undefined ? undefined : "FlakyError",
    errorMessage: expected.error,
    originalExchange: ep.exchange,
    originalRoutingKey: ep.routingKey,
  });
  const first = record!.firstFailure.getTime();
  const last = record!.lastFailure.getTime();
  t.expect(first, `${where}: first failure no later than the last`).toBeLessThanOrEqual(last);
  t.expect(
    Math.floor(expected.since / 1000) * 1000,
    `${where}: first failure after the send`,
  ).toBeLessThanOrEqual(first);
  t.expect(last, `${where}: last failure not in the future`).toBeLessThanOrEqual(Date.now());
  t.expect(copy.properties.messageId, `${where}: the messageId kept`).toBe(`id-${copy.payload}`);
  t.expect(copy.headers.origin, `${where}: the sender's header kept`).toBe("conformance");
}

/** Sends each body with a messageId and a header of its own, which every copy must keep. */
async function sendAll(ep: Endpoint, bodies: readonly string[]): Promise<number> {
  const since = Date.now();
  const publisher = ep.publisher();
  for (const body of bodies)
    await publisher.send(body, { messageId: `id-${body}`, headers: { origin: "conformance" } });
  return since;
}

/**
 * Each try came no sooner than its wait after the one before it began (the
 * wait starts when that try failed, later still), and no later than
 * `delayToleranceMs` past it.
 */
function expectGaps(t: TestKit, arrivals: readonly number[], waits: readonly number[]): void {
  for (const [i, wait] of waits.entries()) {
    const gap = arrivals[i + 1]! - arrivals[i]!;
    const what = `try ${i + 2} came ${gap} ms after try ${i + 1} began`;
    t.expect(wait, `${what}, before its wait of ${wait} ms was up`).toBeLessThanOrEqual(gap);
    t.expect(
      gap,
      `${what}, more than its wait of ${wait} ms plus the tolerance of ${t.delayToleranceMs} ms (delayToleranceMs)`,
    ).toBeLessThanOrEqual(wait + t.delayToleranceMs);
  }
}

const attemptCounting: ConformanceCase = {
  id: "retry-attempts",
  title:
    "a callback that always throws: exactly `attempts` deliveries, counted 1, 2, 3, at least the backoff apart, each reported; then the failed queue holds it once with its record",
  async run(t) {
    const ep = new Endpoint(t, "q");
    // 200 ms, then 400 capped at 300: the cap is seen in the second wait.
    const retry: Retry = { attempts: 3, backoff: fixedBackoff(200, 300) };
    const consumer = ep.consumer(t.main, { retry });
    const errors = t.errors(consumer);
    const clock = arrivalClock<string>(failing);
    const got = await t.collect(consumer, clock.settle, t.timeoutMs + 3 * t.delayToleranceMs);
    const since = await sendAll(ep, ["m1"]);
    await untilPayloadCount(got, "m1", 3);
    await errors.count(3);
    const failed = await t.failedQueue(ep.queue);
    const [copy] = await expectHolds(t, failed, ["m1"], `the failed queue '${failed}'`);
    await nothingMoreAfter(t, ep, got);
    expectExactly(
      t.expect,
      got.items,
      ["m1", "m1", "m1", SENTINEL],
      `'${ep.queue}' after m1 failed 3 times`,
    );
    const tries = deliveriesOf(got, "m1");
    t.expect(
      tries.map((m) => m.deliveryCount),
      "m1's deliveryCount on each try",
    ).toEqual([1, 2, 3]);
    t.expect(
      tries.map((m) => m.failure?.attempts),
      "the attempts its record says each try had behind it",
    ).toEqual([undefined, 1, 2]);
    t.expect(
      tries.map((m) => [m.deliveryInfo.exchange, m.deliveryInfo.routingKey]),
      "where each try says it was published (a retry reports the original)",
    ).toEqual(tries.map(() => [ep.exchange, ep.routingKey]));
    expectReports(
      t,
      errors.items,
      "m1",
      [1, 2, 3].map((n) => `m1 failed on delivery ${n}`),
    );
    const [first, second, last] = errors.items;
    t.expect(
      [first!, second!].map(reportedWait),
      "the waits reported: 200, then 400 capped at 300",
    ).toEqual([200, 300]);
    t.expect(
      last!.error.message.includes(failed),
      `the last report names the failed queue '${failed}': ${last!.error.message}`,
    ).toBe(true);
    if (t.caps.delayedDelivery) expectGaps(t, tries.map(clock.at), [200, 300]);
    expectRecord(t, copy!, ep, { attempts: 3, error: "m1 failed on delivery 3", since });
  },
};

/** Ceilings of the backoff case's waits: 200, 600 capped at 500, 1800 capped at 500. */
const CEILINGS = [200, 500, 500];

const backoffBounds: ConformanceCase = {
  id: "retry-backoff",
  title:
    "backoff with jitter: each wait within its bounds (full: 0 to the ceiling, equal: half of it to all), ceilings growing by the factor to the cap, and no retry before its wait",
  async run(t) {
    const runs = [];
    for (const jitter of ["full", "equal"] as const) {
      const ep = new Endpoint(t, jitter);
      const retry: Retry = { attempts: 4, backoff: { initial: 200, factor: 3, max: 500, jitter } };
      const consumer = ep.consumer(t.main, { retry });
      const errors = t.errors(consumer);
      const clock = arrivalClock<string>(failing);
      const got = await t.collect(consumer, clock.settle, t.timeoutMs + 4 * t.delayToleranceMs);
      runs.push({ jitter, ep, errors, clock, got });
    }
    for (const { ep, jitter } of runs) await sendAll(ep, [jitter]);
    for (const { jitter, errors, got, clock, ep } of runs) {
      await untilPayloadCount(got, jitter, 4);
      await errors.count(4);
      const waits = errors.items.slice(0, 3).map(reportedWait);
      const floors = CEILINGS.map((ceiling) => (jitter === "full" ? 0 : ceiling / 2));
      t.expect(
        waits.every((wait, i) => floors[i]! <= wait && wait <= CEILINGS[i]!),
        `"${jitter}" jitter: the waits reported, [${waits.join(", ")}] ms, within [${floors.map((f, i) => `${f}..${CEILINGS[i]}`).join(", ")}]`,
      ).toBe(true);
      const tries = deliveriesOf(got, jitter);
      t.expect(
        tries.map((m) => m.deliveryCount),
        `"${jitter}": deliveryCount on each try`,
      ).toEqual([1, 2, 3, 4]);
      if (t.caps.delayedDelivery) expectGaps(t, tries.map(clock.at), waits);
      const failed = await t.failedQueue(ep.queue);
      await expectHolds(t, failed, [jitter], `the failed queue '${failed}'`);
    }
  },
};

const deadLettered: ConformanceCase = {
  id: "retry-dead-letter",
  title:
    "exhausted with a dead-letter exchange (the default there): the dead-letter queue gets the message once, with its failure record; the source queue is left empty (deadLetter)",
  async run(t) {
    const route = deadLetterRoute(t);
    const ep = new Endpoint(t, "q", route.queueArguments);
    if (!t.caps.deadLetter) {
      await t.refused(() => ep.consumer().declare());
      return;
    }
    const consumer = ep.consumer(t.main, { retry: { attempts: 2, backoff: fixedBackoff(100) } });
    const errors = t.errors(consumer);
    const got = await t.collect(consumer, failing);
    await route.dlq.consumer().declare();
    const since = await sendAll(ep, ["m1"]);
    await errors.count(2);
    const [letter] = await expectHolds(
      t,
      route.dlq.queue,
      ["m1"],
      `the dead-letter queue '${route.dlq.queue}'`,
    );
    await nothingMoreAfter(t, ep, got);
    expectExactly(
      t.expect,
      got.items,
      ["m1", "m1", SENTINEL],
      `'${ep.queue}' after m1 failed twice`,
    );
    t.expect(
      deliveriesOf(got, "m1").map((m) => m.deliveryCount),
      "m1's deliveryCount on each try",
    ).toEqual([1, 2]);
    expectReports(t, errors.items, "m1", ["m1 failed on delivery 1", "m1 failed on delivery 2"]);
    expectRecord(t, letter!, ep, { attempts: 2, error: "m1 failed on delivery 2", since });
  },
};

const dropped: ConformanceCase = {
  id: "retry-drop",
  title:
    'exhausted with "drop": the message is gone (not in its queue, not in the failed queue), and the drop reported once',
  async run(t) {
    const ep = new Endpoint(t, "q");
    const retry: Retry = { attempts: 2, backoff: fixedBackoff(100), exhausted: "drop" };
    const consumer = ep.consumer(t.main, { retry });
    const errors = t.errors(consumer);
    const got = await t.collect(consumer, failing);
    await sendAll(ep, ["m1"]);
    await untilPayloadCount(got, "m1", 2);
    await errors.count(2);
    await nothingMoreAfter(t, ep, got);
    expectExactly(
      t.expect,
      got.items,
      ["m1", "m1", SENTINEL],
      `'${ep.queue}' after m1 failed twice`,
    );
    t.expect(
      deliveriesOf(got, "m1").map((m) => m.deliveryCount),
      "m1's deliveryCount on each try",
    ).toEqual([1, 2]);
    expectReports(t, errors.items, "m1", ["m1 failed on delivery 1", "m1 failed on delivery 2"]);
    const failed = await t.failedQueue(ep.queue);
    await expectHolds(t, failed, [], `the failed queue '${failed}' after a drop`);
  },
};

const retryAsked: ConformanceCase = {
  id: "retry-method",
  title:
    "message.retry({ delay }) from fetch() and from an iterator: the next delivery counts one more, records no error, waits the delay; past `attempts` it goes to the failed queue",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const consumer = ep.consumer(t.main, { retry: { attempts: 2, backoff: fixedBackoff(100) } });
    await consumer.declare();
    const publisher = ep.publisher();
    const since = await sendAll(ep, ["fetched"]);
    const wait = t.timeoutMs + t.delayToleranceMs;
    const [first] = await fetchMessages(consumer, 1, t.timeoutMs);
    const delay = t.caps.delayedDelivery ? 300 : 0;
    const retried = Date.now();
    await first!.retry({ delay });
    const [second] = await fetchMessages(consumer, 1, wait);
    const fetched = Date.now();
    await second!.ack();
    t.expect(
      [first, second].map((m) => ({ payload: m!.payload, deliveryCount: m!.deliveryCount })),
      "fetched, retried, fetched again",
    ).toEqual([1, 2].map((deliveryCount) => ({ payload: "fetched", deliveryCount })));
    const record = second!.failure;
    t.expect(
      { attempts: record?.attempts, errorName: record?.errorName },
      "the record of a retry asked for",
    ).toEqual({ attempts: 1, errorName: undefined });
    t.expect(
      delay,
      `fetched again ${fetched - retried} ms after retry({ delay: ${delay} })`,
    ).toBeLessThanOrEqual(fetched - retried);
    // From an iterator: retried at once, then again past the policy's 2 attempts.
    await sendAll(ep, ["iterated"]);
    const seen: Message<string>[] = [];
    t.begin(`iterating '${ep.queue}'`);
    for await (const message of consumer) {
      seen.push(message);
      if (message.payload === SENTINEL) {
        await message.ack();
        break;
      }
      await message.retry({ delay: 0 });
      if (message.deliveryCount === 2) await publisher.send(SENTINEL);
    }
    expectInOrder(t.expect, seen, ["iterated", "iterated", SENTINEL], "the iterator");
    t.expect(
      seen.map((m) => m.deliveryCount),
      "deliveryCount in the iterator",
    ).toEqual([1, 2, 1]);
    const failed = await t.failedQueue(ep.queue);
    const [copy] = await expectHolds(t, failed, ["iterated"], `the failed queue '${failed}'`);
    expectRecord(t, copy!, ep, { attempts: 2, since });
  },
};

/**
 * Where the broker keeps a delivery count (`DeliveryInfo.deliveryCount`),
 * it counts every delivery; where it keeps none (RabbitMQ's classic
 * queues), core counts a redelivery as the second, whatever came before.
 * A queue either counts or does not: every delivery of it says the same.
 */
function expectCounted(
  t: TestKit,
  tries: readonly Message<string>[],
  where: string,
  mustCount = false,
): void {
  const counted = tries.map((m) => m.deliveryInfo.deliveryCount !== undefined);
  t.expect(
    counted.every((c) => c === (mustCount || counted[0])),
    `${where}: the broker's count on ${mustCount ? "every delivery (it keeps one)" : "all deliveries or none"}; present: [${counted.join(", ")}]`,
  ).toBe(true);
  const expected = tries.map((_, i) => (counted[0] ? i + 1 : Math.min(i + 1, 2)));
  t.expect(
    tries.map((m) => ({ deliveryCount: m.deliveryCount, redelivered: m.deliveryInfo.redelivered })),
    `${where}: deliveryCount and redelivered on each delivery (the broker ${counted[0] ? "counts" : "keeps no count"})`,
  ).toEqual(expected.map((deliveryCount, i) => ({ deliveryCount, redelivered: i > 0 })));
}

const countedRequeues: ConformanceCase = {
  id: "count-requeue",
  title:
    "deliveryCount across requeue(): 1, 2, 3 where the broker counts (always on quorum queues), 1, 2, 2 where it keeps no count",
  async run(t) {
    const kinds: [label: string, queueType: "classic" | "quorum" | undefined][] = [
      ["q", undefined],
    ];
    if (t.caps.queueTypes?.includes("quorum")) kinds.push(["quorum", "quorum"]);
    for (const [label, queueType] of kinds) {
      const ep = new Endpoint(t, label, queueType ? { queueType } : {});
      // Requeued on its first two deliveries, acked on the third.
      let tries = 0;
      const got = await t.collect(ep.consumer(), (m) =>
        m.payload === SENTINEL || ++tries >= 3 ? m.ack() : m.requeue(),
      );
      await ep.publisher().send("m1");
      await untilPayloadCount(got, "m1", 3);
      await nothingMoreAfter(t, ep, got);
      expectExactly(t.expect, got.items, ["m1", "m1", "m1", SENTINEL], `'${ep.queue}'`);
      expectCounted(
        t,
        deliveriesOf(got, "m1"),
        `m1 requeued twice on a ${queueType ?? "default"} queue`,
        queueType === "quorum",
      );
    }
  },
};

/**
 * Puts "retried" on the queue as a retry's copy (fetched, then
 * `retry({ delay: 0 })`: its record says one attempt), then "fresh" as a
 * first send: what the crash cases give a consumer to hold.
 */
async function freshAndRetried(t: TestKit, ep: Endpoint): Promise<void> {
  const fetcher = ep.consumer(t.main, { retry: { attempts: 5 } });
  await fetcher.declare();
  const publisher = ep.publisher();
  await publisher.send("retried");
  const [first] = await fetchMessages(fetcher, 1, t.timeoutMs);
  t.expect(first!.payload).toBe("retried");
  await first!.retry({ delay: 0 });
  await publisher.send("fresh");
}

/**
 * After the holder of "fresh" and "retried" died: both come back once,
 * redelivered, "fresh" as its second delivery and "retried" as its third
 * (one attempt in its record, two deliveries of this copy).
 */
async function cameBackCounted(t: TestKit, ep: Endpoint, where: string): Promise<void> {
  const got = await t.collect(ep.consumer());
  await got.count(2);
  await nothingMoreAfter(t, ep, got);
  expectExactly(t.expect, got.items, ["fresh", "retried", SENTINEL], where);
  const back = ["fresh", "retried"].map((p) => deliveriesOf(got, p)[0]!);
  t.expect(
    back.map((m) => ({
      payload: m.payload,
      deliveryCount: m.deliveryCount,
      redelivered: m.deliveryInfo.redelivered,
    })),
    `${where}: deliveryCount and redelivered of what came back`,
  ).toEqual([
    { payload: "fresh", deliveryCount: 2, redelivered: true },
    { payload: "retried", deliveryCount: 3, redelivered: true },
  ]);
}

const countedAfterClose: ConformanceCase = {
  id: "count-conn-closed",
  title:
    "deliveryCount across a connection closed holding messages: a first send comes back as delivery 2, a retry's copy as delivery 3",
  async run(t) {
    const ep = new Endpoint(t, "q");
    await freshAndRetried(t, ep);
    const other: Connection = await t.connection();
    const held = await t.collect(ep.consumer(other), "hold");
    await held.count(2);
    t.expect(
      ["fresh", "retried"].map((p) => deliveriesOf(held, p)[0]?.deliveryCount),
      "deliveryCount of fresh and retried as the connection first held them",
    ).toEqual([1, 2]);
    await other.close();
    await cameBackCounted(t, ep, "after the connection holding them closed");
  },
};

const countedAfterCrash: ConformanceCase = {
  id: "count-crash",
  title:
    "deliveryCount across a consumer process killed (SIGKILL) holding messages: a first send comes back as delivery 2, a retry's copy as delivery 3",
  async run(t) {
    const processes = t.processes;
    if (!processes)
      return t.skip(
        "no `processes` option: the backend has no other process to kill (in-process, as memory is); count-conn-closed proves the count across a connection closed holding messages instead",
      );
    const ep = new Endpoint(t, "q");
    await freshAndRetried(t, ep);
    const holder = startChild(processes, "crash-holder", [
      ep.queue,
      JSON.stringify(ep.queueArguments),
      "2",
    ]);
    t.atCleanup(() => holder.child.kill("SIGKILL"));
    const held = await t.within("the child process to hold both messages", () => holder.ready);
    const inHand = (JSON.parse(held) as { payload: string }[]).sort((a, b) =>
      a.payload < b.payload ? -1 : 1,
    );
    t.expect(inHand, "what the child process held, with each deliveryCount").toEqual([
      { payload: "fresh", deliveryCount: 1 },
      { payload: "retried", deliveryCount: 2 },
    ]);
    holder.child.kill("SIGKILL");
    await cameBackCounted(t, ep, "after the process holding them was killed");
  },
};

const retryOrder: ConformanceCase = {
  id: "retry-order",
  title:
    "the documented ordering caveat: a retried message goes behind the ones queued after it (a, b, c queued; a fails once: a, b, c, a)",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const consumer = ep.consumer(t.main, { retry: { attempts: 2, backoff: fixedBackoff(1) } });
    await consumer.declare();
    // All three queued before anyone consumes: the order is the broker's and the policy's alone.
    await sendAll(ep, ["a", "b", "c"]);
    const errors = t.errors(consumer);
    const got = await t.collect(consumer, (m) => {
      if (m.payload === "a" && m.deliveryCount === 1) throw new FlakyError("a failed once");
      return m.ack();
    });
    await untilPayloadCount(got, "a", 2);
    await got.count(4);
    // The report follows the policy's whole path (the retry sent, the first delivery's ack
    // confirmed), which the retry's own delivery need not wait for.
    await errors.count(1);
    await nothingMoreAfter(t, ep, got);
    if (t.caps.ordering)
      expectInOrder(
        t.expect,
        got.items,
        ["a", "b", "c", "a", SENTINEL],
        "a retried once, behind b and c",
      );
    else
      expectExactly(
        t.expect,
        got.items,
        ["a", "a", "b", "c", SENTINEL],
        "a retried once (no `ordering`: any order)",
      );
    t.expect(
      deliveriesOf(got, "a").map((m) => m.deliveryCount),
      "a's deliveryCount on each try",
    ).toEqual([1, 2]);
    expectReports(t, errors.items, "a", ["a failed once"]);
  },
};

const nothingLeft: ConformanceCase = {
  id: "retry-nothing-left",
  title:
    "nothing left behind: of messages that pass, pass on a retry and always fail, the source queue keeps none and the failed queue exactly the ones that always failed",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const consumer = ep.consumer(t.main, { retry: { attempts: 2, backoff: fixedBackoff(100) } });
    const errors = t.errors(consumer);
    const got = await t.collect(consumer, (m) => {
      if (m.payload.startsWith("bad") || (m.payload === "flaky" && m.deliveryCount === 1))
        throw new FlakyError(`${m.payload} failed on delivery ${m.deliveryCount}`);
      return m.ack();
    });
    await sendAll(ep, ["ok", "flaky", "bad1", "bad2"]);
    // flaky once, bad1 and bad2 twice each.
    await errors.count(5);
    const failed = await t.failedQueue(ep.queue);
    await expectHolds(t, failed, ["bad1", "bad2"], `the failed queue '${failed}'`);
    await nothingMoreAfter(t, ep, got);
    expectExactly(
      t.expect,
      got.items,
      ["ok", "flaky", "flaky", "bad1", "bad1", "bad2", "bad2", SENTINEL],
      `'${ep.queue}'`,
    );
    t.expect(
      ["ok", "flaky", "bad1", "bad2"].map((p) => deliveriesOf(got, p).map((m) => m.deliveryCount)),
      "deliveryCount of each try of ok, flaky, bad1, bad2",
    ).toEqual([[1], [1, 2], [1, 2], [1, 2]]);
    t.expect(errors.length, `error events: ${errors.summary()}`).toBe(5);
  },
};

/** The failure policy: attempts, backoff, exhausted (failed queue, dead letter, drop), message.retry(), delivery counts, the ordering caveat. `describeFailures` runs it. */
export const failures: ConformanceGroup = {
  name: "failures",
  cases: [
    attemptCounting,
    backoffBounds,
    deadLettered,
    dropped,
    retryAsked,
    countedRequeues,
    countedAfterClose,
    countedAfterCrash,
    retryOrder,
    nothingLeft,
  ],
};
