import { type CarrotError, type Message, TooLargeToDecodeError } from "@carrot/core";
import { Collector } from "../collector.js";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { deadLetterRoute, Endpoint } from "../endpoint.js";
import { fetchMessages } from "../fetch-messages.js";
import {
  envelopeCorpus,
  generatedCorpus,
  type HostileItem,
  messageCorpus,
} from "../hostile-corpus.js";
import type { HostileOptions } from "../options.js";
import type { TestKit } from "../test-kit.js";

// A queue is shared ground: any client can write anything to it. Each case
// writes hostile messages straight onto the broker (the backend's test file
// says how), then a sentinel through carrot, and checks that the consumer
// stayed alive and dealt with every message exactly once: delivered, or
// rejected (dead-lettered, with x-death) and reported once with a typed
// error; and that nothing crashed, spun or was left behind.

const SENTINEL = "end";
const AFTER = "after";

/** What became of one message: the callback got it, or it was reported and rejected. */
interface Fate {
  kind: "delivered" | "rejected";
  message?: Message<unknown>;
  error?: CarrotError;
}

const key = (body: Uint8Array) => Buffer.from(body).toString("base64");

function bodyOf(item: HostileItem): Uint8Array {
  return item.message?.body ?? item.envelope!.body;
}

function write(hostile: HostileOptions, queue: string, item: HostileItem): Promise<void> {
  if (item.message) return hostile.write(queue, item.message);
  return hostile.writeEnvelope!(queue, item.envelope!.text, item.envelope!.body);
}

async function survives(t: TestKit, items: HostileItem[]): Promise<void> {
  const hostile = t.hostile;
  const route = deadLetterRoute(t);
  // Written to the queue by name (the default exchange): dead-lettered with the DLQ's key.
  const deadLetter = { ...route.queueArguments, deadLetterRoutingKey: route.dlq.routingKey };
  const ep = new Endpoint(t, "q", t.caps.deadLetter ? deadLetter : {});
  if (t.caps.deadLetter) await route.dlq.consumer<unknown>().declare();
  const backendErrors: Error[] = [];
  t.main.on("error", ({ error }) => backendErrors.push(error));

  // Default consumer options: the defaults are what must hold.
  const consumer = ep.consumer<unknown>(t.main);
  const fates = new Collector<Fate>(`fates on '${ep.queue}'`, t.timeoutMs, (f) =>
    f.kind === "rejected" ? `${f.error?.name}: ${f.error?.message}` : "delivered",
  );
  consumer.on("error", (error, message) => fates.push({ kind: "rejected", message, error }));
  await t.collect<unknown>(consumer, (message) => {
    fates.push({ kind: "delivered", message });
    return message.ack();
  });

  const expected = new Map(items.map((item) => [key(bodyOf(item)), item]));
  t.expect(expected.size).toBe(items.length); // every body differs, so a fate names its item
  for (const item of items) await write(hostile, ep.queue, item);
  const publisher = ep.publisher<string>();
  await publisher.send(SENTINEL);

  const fateOf = (fate: Fate) => (fate.message ? expected.get(key(fate.message.body)) : undefined);
  const isPayload = (fate: Fate, payload: string) =>
    fate.kind === "delivered" && !fateOf(fate) && fate.message?.payload === payload;
  await fates.until((all) => {
    const seen = new Set(all.map(fateOf));
    return all.some((f) => isPayload(f, SENTINEL)) && items.every((item) => seen.has(item));
  }, `a fate for each of ${items.length} hostile message(s) and the sentinel`);

  // Still consuming: a message sent after them all arrives too.
  await publisher.send(AFTER);
  await fates.until((all) => all.some((f) => isPayload(f, AFTER)), "the message sent after");

  // Exactly one fate each (a second would be a redelivery loop or a second report).
  const byItem = new Map<HostileItem | undefined, Fate[]>();
  for (const fate of fates.items)
    byItem.set(fateOf(fate), [...(byItem.get(fateOf(fate)) ?? []), fate]);
  t.expect(byItem.get(undefined)?.map((f) => f.kind)).toEqual(["delivered", "delivered"]);
  const rejected: HostileItem[] = [];
  for (const item of items) {
    const got = byItem.get(item) ?? [];
    t.expect({ id: item.id, fates: got.map((f) => f.kind) }).toEqual({
      id: item.id,
      fates: [item.outcome === "either" ? got[0]?.kind : item.outcome],
    });
    const [fate] = got;
    if (fate?.kind === "rejected") {
      rejected.push(item);
      t.expect(fate.error, `${item.id}: ${fate.error?.message}`).toBeInstanceOf(item.error);
      // The report names the queue.
      t.expect(fate.error?.message.includes(`'${ep.queue}'`), fate.error?.message).toBe(true);
    } else {
      // Headers without a prototype, on every backend: no key of a message reaches a setter.
      t.expect(Object.getPrototypeOf(fate!.message!.headers), item.id).toBeNull();
    }
  }
  t.expect(({} as Record<string, unknown>).polluted).toBe(undefined);
  t.expect(backendErrors.map((e) => e.message)).toEqual([]);

  if (!t.caps.deadLetter) return;
  // Each rejected message was dead-lettered once, with the x-death record.
  const dlq = route.dlq.consumer<unknown>();
  const letters = await fetchMessages(dlq, rejected.length, t.timeoutMs);
  t.expect(letters.map((m) => expected.get(key(m.body))?.id).sort()).toEqual(
    rejected.map((item) => item.id).sort(),
  );
  for (const letter of letters) {
    // A header table no client can read stays unreadable in the DLQ (RabbitMQ keeps it as it was).
    if (letter.raw.unreadable) continue;
    const [death] = letter.headers["x-death"] as { reason: string; queue: string }[];
    t.expect({ reason: death?.reason, queue: death?.queue }).toEqual({
      reason: "rejected",
      queue: ep.queue,
    });
  }
  await Promise.all(letters.map((m) => m.ack()));
  t.expect(await dlq.fetch()).toBeNull();
}

/** The consumer's default `maxDecompressedSize` on this backend. */
function limits(t: TestKit) {
  return { maxDecompressedSize: Math.max(16 * 1024 * 1024, t.caps.maxMessageSize) };
}

const messages: ConformanceCase = {
  id: "hostile-messages",
  title:
    "hostile messages (bad bodies, bombs, unknown types, __proto__ and tag look-alike headers): each delivered or rejected once, the consumer goes on",
  async run(t) {
    const corpus = messageCorpus(limits(t));
    await survives(t, corpus);
    // The bombs were stopped at the limit, not inflated and then found wanting.
    t.expect(corpus.filter((i) => i.error === TooLargeToDecodeError)).toHaveLength(2);
  },
};

const envelopes: ConformanceCase = {
  id: "hostile-envelopes",
  title:
    "broken envelopes (not JSON, null, wrong types in every field, bad tags): each rejected once",
  async run(t) {
    if (!t.hostile.writeEnvelope)
      t.skip("the backend carries no text envelope (hostile.writeEnvelope)");
    await survives(t, envelopeCorpus());
  },
};

/** Generated per run with a fixed seed: a failure names the seed and replays the same. */
const GENERATED_SEED = 13;
const GENERATED_COUNT = 200;

const generated: ConformanceCase = {
  id: "hostile-generated",
  title: `${GENERATED_COUNT} generated garbage messages (seed ${GENERATED_SEED}): each delivered or rejected once, the consumer goes on`,
  budget: 12,
  async run(t) {
    const withEnvelopes = t.hostile.writeEnvelope !== undefined;
    await survives(t, generatedCorpus(GENERATED_SEED, GENERATED_COUNT, withEnvelopes));
  },
};

/** Messages other clients wrote, broken or malicious: each is delivered or rejected once, and the consumer goes on. Needs `SuiteOptions.hostile`; `describeHostile` runs it. */
export const hostile: ConformanceGroup = {
  name: "hostile",
  cases: [messages, envelopes, generated],
};
