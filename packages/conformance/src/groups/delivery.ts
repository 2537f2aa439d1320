import {
  type Connection,
  ConnectionLostError,
  type Message,
  MessageStateError,
} from "@carrot/core";
import { Collector } from "../collector.js";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { deadLetterRoute, Endpoint } from "../endpoint.js";
import { expectExactly, expectInOrder, expectRedelivered } from "../expect-messages.js";
import { fetchMessages } from "../fetch-messages.js";
import { redeliveredFlags, untilPayload, untilPayloadCount } from "../received.js";
import type { TestKit } from "../test-kit.js";
import { deferred, withTimeout } from "../wait-for.js";
import { expectDeath } from "../x-death.js";

// "Nothing more arrives" is proven with a sentinel sent last to the same
// queue (see routing.ts): a redelivery goes back ahead of it on an ordered
// backend, so once the sentinel is in, a wrong redelivery would be too.
const SENTINEL = "end";

/**
 * A connection of its own whose consumer holds `bodies`, sent in this order
 * and left unsettled: what a dying or closing connection has in hand.
 */
async function heldOnOtherConnection(
  t: TestKit,
  ep: Endpoint,
  bodies: string[],
): Promise<{ other: Connection; held: Message[] }> {
  const other = await t.connection();
  const holding = await t.collect(ep.consumer(other), "hold");
  const publisher = ep.publisher();
  for (const body of bodies) await publisher.send(body);
  return { other, held: await holding.count(bodies.length) };
}

/**
 * Closes `connection`, then consumes the queue with a new consumer until a
 * sentinel sent after the close arrives: what came back, sentinel included.
 */
async function cameBackAfterClosing(
  t: TestKit,
  ep: Endpoint,
  connection: Connection,
): Promise<Message[]> {
  await connection.close();
  const again = await t.collect(ep.consumer());
  await ep.publisher().send(SENTINEL);
  await untilPayload(again, SENTINEL);
  await t.nothingMoreOn(again);
  return again.items;
}

const redeliverAfterConsumerClose: ConformanceCase = {
  id: "redeliv-consumer",
  title:
    "at-least-once: a message unacked when its consumer closes is delivered again, redelivered",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const first = ep.consumer();
    const held = await t.collect(first, "hold");
    await ep.publisher().send("m1");
    await held.count(1);
    await first.close();
    const again = await t.collect(ep.consumer());
    const [message] = await again.count(1);
    expectExactly(t.expect, held.items, ["m1"], "the consumer that closed holding m1");
    expectRedelivered(t.expect, held.items, () => false, "delivered first");
    expectExactly(t.expect, [message!], ["m1"], "the next consumer");
    expectRedelivered(t.expect, [message!], () => true, "delivered again");
  },
};

const redeliverAfterConnectionClose: ConformanceCase = {
  id: "redeliv-conn",
  title:
    "at-least-once: a message unacked when its connection closes is delivered again, redelivered",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const { other } = await heldOnOtherConnection(t, ep, ["m1"]);
    await other.close();
    const again = await t.collect(ep.consumer());
    const [message] = await again.count(1);
    t.expect(message!.payload).toBe("m1");
    expectRedelivered(t.expect, [message!], () => true, "delivered again");
  },
};

const ackIsFinal: ConformanceCase = {
  id: "ack-final",
  title: "ack is final: an acked message never comes back, even after its connection closes",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const other = await t.connection();
    const acked = deferred();
    const first = ep.consumer(other);
    await t.collect(first, async (message) => {
      await message.ack();
      acked.resolve();
    });
    await ep.publisher().send("m1");
    await withTimeout(acked.promise, t.timeoutMs, "the ack of m1");
    const again = await cameBackAfterClosing(t, ep, other);
    expectExactly(t.expect, again, [SENTINEL], "after the acked m1's connection closed");
    expectRedelivered(t.expect, again, () => false, "the sentinel");
  },
};

const ackSome: ConformanceCase = {
  id: "ack-some",
  title:
    "acks sent together settle exactly their messages: the oldest in a run, one out of order, none of the others",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const bodies = ["m0", "m1", "m2", "m3", "m4", "m5"];
    const { other, held } = await heldOnOtherConnection(t, ep, bodies);
    const byPayload = new Map(held.map((message) => [message.payload, message]));
    // One burst: a backend may send these as one batch, or as one ack of a run of tags.
    await Promise.all(["m0", "m1", "m2", "m4"].map((payload) => byPayload.get(payload)!.ack()));
    const again = await cameBackAfterClosing(t, ep, other);
    expectExactly(t.expect, again, [SENTINEL, "m3", "m5"], "back after m0, m1, m2, m4 were acked");
    expectRedelivered(t.expect, again, (m) => m.payload !== SENTINEL, "back after the close");
  },
};

const rejectDrops: ConformanceCase = {
  id: "reject-drop",
  title: "reject() drops the message when the queue has no dead-letter exchange",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const rejected = deferred();
    const got = await t.collect(ep.consumer(), async (m) => {
      if (m.payload === SENTINEL) return m.ack();
      await m.reject();
      rejected.resolve();
    });
    const publisher = ep.publisher();
    await publisher.send("m1");
    // The sentinel goes in only after the reject: a requeue would have put m1 ahead of it.
    await withTimeout(rejected.promise, t.timeoutMs, "the reject of m1");
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["m1", SENTINEL], "after reject() of m1");
    expectRedelivered(t.expect, got.items, () => false, "after reject() of m1");
  },
};

const rejectDeadLetters: ConformanceCase = {
  id: "reject-dlx",
  title: "reject() dead-letters to the queue's dead-letter exchange (deadLetter)",
  async run(t) {
    const { queueArguments, dlq } = deadLetterRoute(t);
    const ep = new Endpoint(t, "q", queueArguments);
    if (!t.caps.deadLetter) {
      await t.refused(() => ep.consumer().declare());
      return;
    }
    const dead = await t.collect(dlq.consumer());
    const got = await t.collect(ep.consumer(), (m) => m.reject());
    const publisher = ep.publisher();
    await publisher.send("m1", { headers: { origin: "conformance" }, messageId: "id-1" });
    await publisher.send(SENTINEL);
    // Both rejected first: without `ordering` the sentinel may be rejected, and
    // dead-lettered, before m1 is even received. Closing the consumer waits
    // for its rejects, each resolved once its dead letter was sent.
    await untilPayload(got, "m1");
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    await untilPayload(dead, "m1");
    await untilPayload(dead, SENTINEL);
    await t.nothingMoreOn(dead);
    expectExactly(t.expect, got.items, ["m1", SENTINEL], "the queue whose messages are rejected");
    expectExactly(t.expect, dead.items, ["m1", SENTINEL], "its dead-letter queue");
    const letter = dead.items.find((m) => m.payload === "m1")!;
    t.expect(letter.headers.origin, "a header of the dead-lettered m1").toBe("conformance");
    t.expect(letter.properties.messageId, "the messageId of the dead-lettered m1").toBe("id-1");
    expectDeath(t.expect, letter, {
      reason: "rejected",
      queue: ep.queue,
      exchange: ep.exchange,
      routingKeys: [ep.routingKey],
    });
  },
};

const requeue: ConformanceCase = {
  id: "requeue",
  title: "requeue() delivers the message again, with redelivered true",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const got = await t.collect(ep.consumer(), (m) =>
      m.deliveryInfo.redelivered || m.payload === SENTINEL ? m.ack() : m.requeue(),
    );
    const publisher = ep.publisher();
    await publisher.send("m1");
    await untilPayloadCount(got, "m1", 2);
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectInOrder(t.expect, got.items, ["m1", "m1", SENTINEL], "m1 requeued once, then acked");
    t.expect(redeliveredFlags(got.items), "redelivered flags of m1, m1 again, sentinel").toEqual([
      false,
      true,
      false,
    ]);
  },
};

const doubleSettle: ConformanceCase = {
  id: "double-settle",
  title: "a second settle of one message throws MessageStateError",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const held = await t.collect(ep.consumer(), "hold");
    const publisher = ep.publisher();
    for (const body of ["ack", "reject", "requeue"]) await publisher.send(body);
    const messages = await held.count(3);
    const settle = {
      ack: (m: Message<string>) => m.ack(),
      reject: (m: Message<string>) => m.reject(),
      requeue: (m: Message<string>) => m.requeue(),
    };
    const settledState = { ack: "acked", reject: "rejected", requeue: "requeued" };
    for (const message of messages.slice(0, 3)) {
      const how = message.payload as keyof typeof settle;
      await settle[how](message);
      t.expect(message.state).toBe(settledState[how]);
      for (const again of Object.values(settle)) {
        await t.expect(again(message)).rejects.toBeInstanceOf(MessageStateError);
      }
    }
    // The requeued message comes back as a new delivery, which is settleable once more.
    await held.count(4);
    const back = held.items[3]!;
    t.expect(back.payload).toBe("requeue");
    expectRedelivered(t.expect, [back], () => true, "delivered again");
    await back.ack();
  },
};

const settleAfterClose: ConformanceCase = {
  id: "settle-closed",
  title:
    "settling after the connection is gone rejects with ConnectionLostError; the broker redelivers",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const {
      other,
      held: [message],
    } = await heldOnOtherConnection(t, ep, ["m1"]);
    await other.close();
    await t.expect(message!.ack()).rejects.toBeInstanceOf(ConnectionLostError);
    const again = await t.collect(ep.consumer());
    const [redelivered] = await again.count(1);
    t.expect(redelivered!.payload).toBe("m1");
    expectRedelivered(t.expect, [redelivered!], () => true, "delivered again");
  },
};

const prefetch: ConformanceCase = {
  id: "prefetch",
  title: "prefetch N: with no acks, exactly N messages are in flight on that consumer",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const limit = 3;
    const total = 10;
    const limited = await t.collect(ep.consumer(t.main, { prefetchCount: limit }), "hold");
    const publisher = ep.publisher();
    await Promise.all(Array.from({ length: total }, (_, i) => publisher.send(`m${i}`)));
    await limited.count(limit);
    // A second, unlimited consumer takes the rest. Had the first taken more
    // than `limit`, this one could not reach total - limit: no quiet period needed.
    const rest = await t.collect(ep.consumer());
    await rest.until(
      (items) => items.length >= total - limit,
      `${total - limit} messages (the first consumer holds ${limited.length}; prefetch is ${limit})`,
    );
    t.expect(limited.length, `messages in flight on the consumer with prefetch ${limit}`).toBe(
      limit,
    );
    const sent = Array.from({ length: total }, (_, i) => `m${i}`);
    expectExactly(t.expect, [...limited.items, ...rest.items], sent, "both consumers together");
  },
};

const competing: ConformanceCase = {
  id: "competing",
  title: "competing consumers: every message handled exactly once, and both get a share",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const total = 200;
    // Each consumer holds its first message until the other has one too: with
    // prefetch 1, the broker then has to give the next one to the other
    // consumer, so "the load is shared" is forced, not left to timing.
    const both = deferred();
    const firsts = new Set<string>();
    const all = new Collector<Message<string>>("both consumers", t.timeoutMs);
    const shares: Collector<Message<string>>[] = [];
    for (const label of ["a", "b"]) {
      const connection = await t.connection();
      const share = await t.collect(ep.consumer(connection, { prefetchCount: 1 }), async (m) => {
        if (firsts.size < 2) {
          firsts.add(label);
          if (firsts.size === 2) both.resolve();
          await withTimeout(both.promise, t.timeoutMs, "the other consumer's first message");
        }
        await m.ack();
        all.push(m);
      });
      shares.push(share);
    }
    const publisher = ep.publisher();
    await Promise.all(Array.from({ length: total }, (_, i) => publisher.send(`m${i}`)));
    await all.count(total);
    t.expect(
      shares.map((share) => share.length > 0),
      `each consumer's share is not empty (shares: ${shares.map((s) => s.length).join(" and ")})`,
    ).toEqual([true, true]);
    const sent = Array.from({ length: total }, (_, i) => `m${i}`);
    expectExactly(t.expect, all.items, sent, "two competing consumers");
    expectRedelivered(t.expect, all.items, () => false, "two competing consumers");
  },
};

const ordering: ConformanceCase = {
  id: "ordering",
  title: "ordering: one consumer sees one publisher's pipelined messages in order",
  async run(t) {
    if (!t.caps.ordering)
      t.skip("the backend does not declare `ordering` (e.g. SQS standard queues)");
    const ep = new Endpoint(t, "q");
    const got = await t.collect<number>(ep.consumer<number>());
    const publisher = ep.publisher<number>();
    const sent = Array.from({ length: 500 }, (_, i) => i);
    await Promise.all(sent.map((i) => publisher.send(i)));
    await got.count(sent.length);
    expectInOrder(t.expect, got.items, sent, "one publisher's 500 pipelined sends");
  },
};

const noAck: ConformanceCase = {
  id: "noack",
  title:
    "noAck consumers (and noAck fetch()) get each message once and never again, and cannot settle it",
  async run(t) {
    const ep = new Endpoint(t, "q");
    // On a connection of its own, closed below: a message it left unsettled would come back then.
    const other = await t.connection();
    const first = ep.consumer(other, { noAck: true });
    const got = await t.collect(first, "hold");
    const publisher = ep.publisher();
    await publisher.send("m1");
    const [message] = await got.count(1);
    await first.close();
    await publisher.send("m2");
    const [fetched] = await fetchMessages(ep.consumer(other, { noAck: true }), 1, t.timeoutMs);
    for (const m of [message!, fetched!]) {
      t.expect(m.acknowledged, `${m.payload} consumed with noAck counts as acknowledged`).toBe(
        true,
      );
      await t.expect(m.ack()).rejects.toBeInstanceOf(MessageStateError);
      await t.expect(m.requeue()).rejects.toBeInstanceOf(MessageStateError);
    }
    expectExactly(t.expect, [message!, fetched!], ["m1", "m2"], "consumed with noAck");
    const again = await cameBackAfterClosing(t, ep, other);
    expectExactly(t.expect, again, [SENTINEL], "after the noAck connection closed");
  },
};

const fetchAndDiscard: ConformanceCase = {
  id: "fetch-discard",
  title: "fetch() returns null on an empty queue; discardAll() returns the count purged",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const consumer = ep.consumer();
    await consumer.declare();
    t.expect(await consumer.fetch()).toBeNull();
    const publisher = ep.publisher();
    await publisher.send("one");
    const [message] = await fetchMessages(consumer, 1, t.timeoutMs);
    t.expect(message!.payload).toBe("one");
    expectRedelivered(t.expect, [message!], () => false, "delivered first");
    await message!.ack();
    t.expect(await consumer.fetch()).toBeNull();
    await Promise.all(["a", "b", "c", "d", "e"].map((body) => publisher.send(body)));
    t.expect(await consumer.discardAll()).toBe(5);
    t.expect(await consumer.fetch()).toBeNull();
    t.expect(await consumer.discardAll()).toBe(0);
  },
};

const volume: ConformanceCase = {
  id: "volume",
  title: "volume: 10,000 pipelined messages arrive with no loss and no duplicates",
  budget: 20,
  async run(t) {
    const total = 10_000;
    const ep = new Endpoint(t, "q");
    const got = await t.collect<number>(
      ep.consumer<number>(t.main, { prefetchCount: 500 }),
      "ack",
      t.timeoutMs * 10,
    );
    const publisher = ep.publisher<number>(await t.connection());
    // All at once: the publisher pipelines within its in-flight bound, as an application would.
    await Promise.all(Array.from({ length: total }, (_, i) => publisher.send(i)));
    await got.count(total);
    await t.nothingMoreOn(got);
    const sent = Array.from({ length: total }, (_, i) => i);
    expectExactly(t.expect, got.items, sent, `${total} pipelined sends`);
    expectRedelivered(t.expect, got.items, () => false, `${total} pipelined sends`);
  },
};

/** Settling and flow: ack, reject, requeue, dead-lettering, prefetch, competing consumers, ordering, fetch, volume. `describeDelivery` runs it. */
export const delivery: ConformanceGroup = {
  name: "delivery",
  cases: [
    redeliverAfterConsumerClose,
    redeliverAfterConnectionClose,
    ackIsFinal,
    ackSome,
    rejectDrops,
    rejectDeadLetters,
    requeue,
    doubleSettle,
    settleAfterClose,
    prefetch,
    competing,
    ordering,
    noAck,
    fetchAndDiscard,
    volume,
  ],
};
