import {
  CarrotError,
  ConnectionError,
  ConnectionLostError,
  ConnectTimeoutError,
  type ConsumerOptions,
} from "@carrot/core";
import { Collector } from "../collector.js";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { ConnectionEvents } from "../connection-events.js";
import { Endpoint } from "../endpoint.js";
import { expectInOrder } from "../expect-messages.js";
import { payloads, untilPayload } from "../received.js";
import type { TestKit } from "../test-kit.js";
import { WaitTimeoutError, withTimeout } from "../wait-for.js";

// The network between the client and the broker breaks, through a
// fault-injecting TCP proxy (fault-proxy.ts): connections are cut under
// load, refused, stalled, or silenced for good. The cases hold what a
// backend promises then: a send never reports success for a message the
// broker does not have, an ack that succeeded is final, consumers and their
// topology come back by themselves, a dead connection is noticed even when
// nothing says so, and a connect that cannot succeed fails with a typed error.

/** The outcome of `work`, resolved or rejected, within the case's deadline (a hang fails the case). */
async function outcomeOf(
  t: TestKit,
  work: Promise<unknown>,
  what: string,
): Promise<{ ok: true } | { ok: false; error: unknown }> {
  return withTimeout(
    work.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    t.timeoutMs,
    what,
  );
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// --- a. cut under load -------------------------------------------------------

const TOTAL = 2_000;
/** Confirmed sends after which the proxy cuts every connection: progress, not time. */
const CUT_AFTER = [400, 900, 1_400];
/** Sends in flight at once. */
const WINDOW = 100;
const SENTINEL = -1;

/** One delivery to the consumer, and what its ack did. */
interface DeliveryRecord {
  /** Order of events in the case: deliveries and resolved acks share one counter. */
  seq: number;
  id: number;
  /** One per physical publish: a retried send is a new message. */
  messageId: string;
  redelivered: boolean;
  /** Disconnects the consuming connection had reported when the message arrived. */
  disconnectsAtDelivery: number;
  /** Cuts the proxy had made when the message arrived. */
  cutsAtDelivery: number;
  ack: "pending" | "resolved" | Error;
  ackSeq?: number;
  /** Disconnects the consuming connection had reported when the ack resolved. */
  disconnectsAtAck?: number;
}

const cutUnderLoad: ConformanceCase = {
  id: "cut-load",
  title:
    "cut under load: every confirmed send is consumed, no acked message comes back, consumers resume by themselves",
  budget: 15,
  async run(t) {
    const proxy = await t.proxy();
    const consuming = await t.through(proxy).connect();
    const publishing = await t.through(proxy).connect();
    const consumerEvents = new ConnectionEvents(consuming, "the consuming connection", t.timeoutMs);
    const publisherEvents = new ConnectionEvents(
      publishing,
      "the publishing connection",
      t.timeoutMs,
    );
    const ep = new Endpoint(t, "load");

    let seq = 0;
    const records: DeliveryRecord[] = [];
    const consumedIds = new Set<number>();
    const arrivals = new Collector<number>("deliveries", t.timeoutMs * 3, String);
    await t.collect<number>(
      ep.consumer<number>(consuming, { prefetchCount: 100 }),
      async (message) => {
        const record: DeliveryRecord = {
          seq: seq++,
          id: message.payload,
          messageId: String(message.properties.messageId),
          redelivered: message.deliveryInfo.redelivered,
          disconnectsAtDelivery: consumerEvents.count("disconnect"),
          cutsAtDelivery: proxy.cuts,
          ack: "pending",
        };
        records.push(record);
        consumedIds.add(record.id);
        arrivals.push(record.id);
        try {
          await message.ack();
        } catch (error) {
          record.ack = error instanceof Error ? error : new Error(String(error));
          return;
        }
        record.ack = "resolved";
        record.ackSeq = seq++;
        record.disconnectsAtAck = consumerEvents.count("disconnect");
      },
      t.timeoutMs * 3,
    );

    const publisher = t.publisher<number>(publishing, {
      exchange: ep.exchange,
      routingKey: ep.routingKey,
      sendTimeout: t.timeoutMs,
    });
    const confirmed = new Set<number>();
    const sentMessageIds = new Set<string>();
    const sendFailures: { id: number; error: unknown }[] = [];
    const cuts = [...CUT_AFTER];
    const sendOnce = async (id: number, attempt: number) => {
      const messageId = `${id}.${attempt}`;
      sentMessageIds.add(messageId);
      await publisher.send(id, { messageId });
      confirmed.add(id);
      if (cuts.length > 0 && confirmed.size >= cuts[0]!) {
        cuts.shift();
        proxy.cut();
      }
    };
    // A send that failed is retried once, after the reconnect: counted confirmed if the retry resolves.
    const send = async (id: number) => {
      try {
        await sendOnce(id, 0);
      } catch (error) {
        sendFailures.push({ id, error });
        if (!(error instanceof CarrotError)) return;
        if (publisherEvents.down) await publisherEvents.next("reconnect");
        await sendOnce(id, 1).catch((again: unknown) => sendFailures.push({ id, error: again }));
      }
    };
    let next = 0;
    const worker = async () => {
      while (next < TOTAL) await send(next++);
    };
    await Promise.all(Array.from({ length: WINDOW }, worker));

    // Everything confirmed must be consumed at least once; duplicates are allowed.
    // (Not "acked": an ack that failed with ConnectionLostError may still have
    // reached the broker, which then rightly does not deliver the message again.)
    let incomplete: unknown;
    try {
      await arrivals.until(
        () => [...confirmed].every((id) => consumedIds.has(id)),
        `a delivery of each of the ${confirmed.size} confirmed messages`,
      );
      // The sentinel, sent last, closes the observation window: on an ordered
      // backend, anything put back in the queue (an unacked message after a
      // cut) is delivered ahead of it.
      await publisher.send(SENTINEL, { messageId: "sentinel" });
      await arrivals.until((ids) => ids.includes(SENTINEL), "the sentinel");
      await t.quietPeriodIfUnordered();
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      incomplete = error; // the assertions below say which messages are missing
    }

    t.expect(proxy.cuts, `cuts made (confirmed sends: ${confirmed.size})`).toBe(CUT_AFTER.length);
    t.expect(
      sendFailures.filter(({ error }) => !(error instanceof CarrotError)).map((f) => f.error),
      "send failures that are not carrot errors",
    ).toEqual([]);
    const lost = [...confirmed].filter((id) => !consumedIds.has(id)).sort((a, b) => a - b);
    t.expect(
      lost,
      `confirmed sends never consumed: lost (${confirmed.size} confirmed; ${sendFailures.length} send failures, e.g. ${describeError(sendFailures[0]?.error)}; ${consumerEvents.summary()}; ${publisherEvents.summary()}; ${proxy.describe()}; last deliveries: ${records.slice(-3).map(describeDelivery).join(", ")})`,
    ).toEqual([]);
    t.expect(
      records
        .filter((r) => r.id !== SENTINEL && !sentMessageIds.has(r.messageId))
        .map((r) => r.messageId),
      "messages consumed that were never sent",
    ).toEqual([]);
    t.expect(
      records
        .filter((r) => r.ack instanceof Error && !(r.ack instanceof ConnectionLostError))
        .map((r) => describeError(r.ack)),
      "acks that failed with something other than ConnectionLostError",
    ).toEqual([]);

    const { flagLost, ackedCameBack, falseAcks } = judgeRedeliveries(records);
    t.expect(flagLost, "deliveries again of one message without redelivered=true").toEqual([]);
    t.expect(
      ackedCameBack,
      "messages delivered again after their ack resolved, with no disconnect reported in between",
    ).toEqual([]);
    t.expect(
      falseAcks,
      "acks that resolved after their connection was reported lost, of messages then delivered again",
    ).toEqual([]);

    t.expect(consumerEvents.count("reconnect"), "reconnects of the consuming connection").not.toBe(
      0,
    );
    t.expect(
      publisherEvents.count("reconnect"),
      "reconnects of the publishing connection",
    ).not.toBe(0);
    const afterLastCut = records.filter(
      (r) => r.cutsAtDelivery === CUT_AFTER.length && r.ack === "resolved" && r.id !== SENTINEL,
    );
    t.expect(afterLastCut.length, "messages consumed and acked after the last cut").toBeGreaterThan(
      0,
    );
    if (incomplete) {
      throw new WaitTimeoutError(
        `${(incomplete as Error).message}; consuming connection: ${consumerEvents.summary()}; last deliveries: ${records.slice(-5).map(describeDelivery).join(", ")}`,
        { cause: incomplete },
      );
    }
  },
};

function describeDelivery(r: DeliveryRecord): string {
  const ack = r.ack instanceof Error ? `ack failed: ${r.ack.name}` : `ack ${r.ack}`;
  return `#${r.seq} ${r.messageId}${r.redelivered ? " redelivered" : ""} after ${r.cutsAtDelivery} cut(s), ${ack}`;
}

/**
 * What the deliveries of each message (one physical publish) may look like.
 * After the first, every delivery is a redelivery (`redelivered` true). An
 * ack that resolved is final, except one in flight when the connection
 * dropped (AMQP acks are not confirmed): so a message may come back after a
 * resolved ack only across a reported disconnect, and an ack that resolves
 * after its connection was reported lost is a false success.
 */
function judgeRedeliveries(records: readonly DeliveryRecord[]) {
  const flagLost: string[] = [];
  const ackedCameBack: string[] = [];
  const falseAcks: string[] = [];
  const byMessage = new Map<string, DeliveryRecord[]>();
  for (const record of records) {
    const earlier = byMessage.get(record.messageId) ?? [];
    if (earlier.length > 0 && !record.redelivered)
      flagLost.push(`${record.messageId} (delivery ${earlier.length + 1})`);
    for (const before of earlier) {
      if (before.ack !== "resolved") continue;
      if (before.ackSeq! < record.seq && before.disconnectsAtAck === record.disconnectsAtDelivery)
        ackedCameBack.push(record.messageId);
      if (before.disconnectsAtAck! > before.disconnectsAtDelivery) falseAcks.push(before.messageId);
    }
    earlier.push(record);
    byMessage.set(record.messageId, earlier);
  }
  return {
    flagLost,
    ackedCameBack: [...new Set(ackedCameBack)],
    falseAcks: [...new Set(falseAcks)],
  };
}

// --- b. topology recovery ----------------------------------------------------

const topologyRecovery: ConformanceCase = {
  id: "cut-topology",
  title:
    "after a cut, the consumer's queue, binding and exchange are declared again and it consumes by itself",
  async run(t) {
    const proxy = await t.proxy();
    const consuming = await t.through(proxy).connect();
    const events = new ConnectionEvents(consuming, "the consuming connection", t.timeoutMs);
    const ep = new Endpoint(t, "topo");
    // A queue that dies with its connection where the backend has such queues
    // (and takes its auto-delete exchange with it), so that only a redeclare
    // brings them back.
    const fragile: Omit<ConsumerOptions<string>, "queue"> = t.caps.exclusiveQueues
      ? { exclusive: true, durable: false, autoDelete: true, exchangeAutoDelete: true }
      : { durable: false };
    // The cut comes only after the ack of "before" resolved, so that nothing is in flight.
    const acked = new Collector<string>("resolved acks", t.timeoutMs);
    const got = await t.collect(ep.consumer(consuming, fragile), async (message) => {
      await message.ack();
      acked.push(message.payload);
    });
    // Published from a direct connection, never through the proxy.
    const publisher = t.publisher<string>(t.main, {
      exchange: ep.exchange,
      routingKey: ep.routingKey,
      durable: false,
      autoDelete: fragile.exchangeAutoDelete ?? false,
      // Where the backend can say so, an unrouted message fails the send instead of vanishing.
      mandatory: t.caps.mandatory,
    });
    await publisher.send("before");
    await acked.until((items) => items.includes("before"), "the ack of 'before'");
    const reconnected = events.next("reconnect");
    proxy.cut();
    // The reconnect event means "up again, topology and consumers recovered".
    await reconnected;
    await publisher.send("after");
    await untilPayload(got, "after");
    expectInOrder(t.expect, got.items, ["before", "after"], "the consumer across the cut");
    t.expect(got.items.map((m) => m.deliveryInfo.redelivered)).toEqual([false, false]);
  },
};

// --- c. refused and stalled connects -----------------------------------------

/** Short, so that a stalled connect gives up well within the case's deadline. */
const CONNECT_TIMEOUT_MS = 1_500;

const refusedAndStalled: ConformanceCase = {
  id: "connect-faults",
  title:
    "a refused connect fails with a ConnectionError, a stalled one with ConnectTimeoutError, never a hang",
  async run(t) {
    const proxy = await t.proxy();
    const once = { reconnect: false as const, connectTimeout: CONNECT_TIMEOUT_MS };

    proxy.refuse(true);
    const refused = await outcomeOf(
      t,
      t.through(proxy, once).connect(),
      "connect() through a proxy that refuses connections",
    );
    t.expect(proxy.connectionsSeen, "connection attempts that reached the proxy").toBeGreaterThan(
      0,
    );
    t.expect(refused.ok, "connect() through a refusing proxy resolved").toBe(false);
    if (!refused.ok)
      t.expect(refused.error, describeError(refused.error)).toBeInstanceOf(ConnectionError);

    proxy.refuse(false);
    proxy.stall(true);
    const seen = proxy.connectionsSeen;
    const stalled = await outcomeOf(
      t,
      t.through(proxy, once).connect(),
      `connect() through a stalled proxy (connectTimeout ${CONNECT_TIMEOUT_MS} ms)`,
    );
    t.expect(proxy.connectionsSeen, "connection attempts that reached the proxy").toBeGreaterThan(
      seen,
    );
    t.expect(stalled.ok, "connect() through a stalled proxy resolved").toBe(false);
    if (!stalled.ok)
      t.expect(stalled.error, describeError(stalled.error)).toBeInstanceOf(ConnectTimeoutError);
  },
};

// --- d. a send while disconnected --------------------------------------------

const sendWhileDisconnected: ConformanceCase = {
  id: "send-offline",
  title:
    "a send while the broker is unreachable never resolves then: it waits and succeeds, or fails with a carrot error",
  async run(t) {
    const proxy = await t.proxy();
    const publishing = await t.through(proxy).connect();
    const events = new ConnectionEvents(publishing, "the publishing connection", t.timeoutMs);
    const ep = new Endpoint(t, "offline");
    // Consumed from a direct connection: what arrived is what the broker has.
    const got = await t.collect(ep.consumer());
    const publisher = t.publisher<string>(publishing, {
      exchange: ep.exchange,
      routingKey: ep.routingKey,
      sendTimeout: t.timeoutMs,
    });
    await publisher.send("before");
    await untilPayload(got, "before");

    proxy.refuse(true);
    const disconnected = events.next("disconnect");
    proxy.cut();
    await disconnected;
    let outcome: "pending" | "resolved" | { error: unknown } = "pending";
    const sending = publisher.send("during").then(
      () => {
        outcome = "resolved";
      },
      (error: unknown) => {
        outcome = { error };
      },
    );
    // Two reconnect attempts refused: the broker cannot have "during" now.
    const seen = proxy.connectionsSeen;
    await withTimeout(
      proxy.untilSeen(seen + 2),
      t.timeoutMs,
      "two reconnect attempts at the refusing proxy",
      () => `the proxy saw ${proxy.connectionsSeen - seen}`,
    );
    t.expect(outcome, "the send's outcome while every connection is refused").not.toBe("resolved");

    proxy.refuse(false);
    await withTimeout(sending, t.timeoutMs * 2, "the send of 'during' to resolve or reject");
    const settled = outcome as "resolved" | { error: unknown };
    // After the outage the connection works again by itself.
    await publisher.send("after");
    await untilPayload(got, "after");
    if (settled === "resolved") {
      await untilPayload(got, "during");
    } else {
      const { error } = settled;
      t.expect(error, describeError(error)).toBeInstanceOf(CarrotError);
      // "Not performed" is a promise: the message must not be on the broker.
      if (error instanceof ConnectionLostError) {
        await t.quietPeriodIfUnordered();
        t.expect(
          payloads(got.items).includes("during"),
          `'during' arrived after ${describeError(error)}`,
        ).toBe(false);
      }
    }
  },
};

// --- e. connections that go silent -------------------------------------------

const silentConnections: ConformanceCase = {
  id: "silence",
  title:
    "connections that go silent for good are noticed: a send into one settles, never as sent when lost, and consumers resume",
  async run(t) {
    const proxy = await t.proxy();
    const consuming = await t.through(proxy).connect();
    const publishing = await t.through(proxy).connect();
    const events = new ConnectionEvents(consuming, "the consuming connection", t.timeoutMs);
    const ep = new Endpoint(t, "silent");
    const acked = new Collector<string>("resolved acks", t.timeoutMs);
    const got = await t.collect(ep.consumer(consuming), async (message) => {
      await message.ack();
      acked.push(message.payload);
    });
    const publisher = t.publisher<string>(publishing, {
      exchange: ep.exchange,
      routingKey: ep.routingKey,
      // Settles (at the latest as PublishTimeoutError) before the wait below gives up.
      sendTimeout: t.timeoutMs / 2,
    });
    await publisher.send("before");
    await acked.until((items) => items.includes("before"), "the ack of 'before'");

    // No close, no reset: nothing but the silence tells either side. Only a
    // backend that notices it (heartbeats, request deadlines) gets out.
    const noticed = events.next("disconnect");
    const back = events.next("reconnect");
    t.expect(proxy.silence(), "connections silenced").toBeGreaterThan(0);
    const during = outcomeOf(
      t,
      publisher.send("during"),
      "the send of 'during' into a silent connection",
    );
    await noticed;
    await back;
    const sent = await during;
    await publisher.send("after");
    await untilPayload(got, "after");
    if (sent.ok) await untilPayload(got, "during");
    else t.expect(sent.error, describeError(sent.error)).toBeInstanceOf(CarrotError);
    await t.quietPeriodIfUnordered();

    const times = (payload: string) => payloads(got.items).filter((p) => p === payload).length;
    t.expect(times("before"), "deliveries of 'before', acked before the silence").toBe(1);
    t.expect(times("after"), "deliveries of 'after', sent once the consumer was back").toBe(1);
    if (sent.ok) t.expect(times("during"), "deliveries of 'during', whose send resolved").toBe(1);
    else if (sent.error instanceof ConnectionLostError)
      t.expect(times("during"), `deliveries of 'during' after ${describeError(sent.error)}`).toBe(
        0,
      );
    else
      t.expect(
        times("during"),
        `deliveries of 'during' after ${describeError(sent.error)}`,
      ).toBeLessThanOrEqual(1);
  },
};

// --- f. close after a loss ---------------------------------------------------

const closeAfterLoss: ConformanceCase = {
  id: "close-after-loss",
  title: "a lost connection's 'disconnect' carries the reason, and its close() emits no second one",
  async run(t) {
    const proxy = await t.proxy();
    const connection = await t.through(proxy).connect();
    const events = new ConnectionEvents(connection, "the lost connection", t.timeoutMs);
    const reported: (Error | undefined)[] = [];
    connection.on("disconnect", ({ error }) => reported.push(error));
    // Refused, so that it stays down until the close.
    proxy.refuse(true);
    const disconnected = events.next("disconnect");
    proxy.cut();
    await disconnected;
    await connection.close();
    t.expect(reported.length, events.summary()).toBe(1);
    t.expect(reported[0], "the disconnect of a loss says why").toBeInstanceOf(ConnectionLostError);
  },
};

/** Network faults through a FaultProxy: cuts, refused and stalled connections, reconnects. Needs `SuiteOptions.faults`; `describeFaults` runs it. */
export const faults: ConformanceGroup = {
  name: "faults",
  cases: [
    cutUnderLoad,
    topologyRecovery,
    refusedAndStalled,
    sendWhileDisconnected,
    silentConnections,
    closeAfterLoss,
  ],
};
