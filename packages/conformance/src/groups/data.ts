import {
  CarrotError,
  ContentTypeNotAcceptedError,
  DecodeError,
  type Message,
  MessageTooLargeError,
} from "@carrot/core";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { deadLetterRoute, Endpoint } from "../endpoint.js";
import { expectExactly } from "../expect-messages.js";
import { fetchMessages } from "../fetch-messages.js";
import { untilPayload } from "../received.js";
import type { TestKit } from "../test-kit.js";

const SENTINEL = "end";

/** Sends each value with the given options and returns the messages in arrival order, matched by messageId. */
async function roundTrip(
  t: TestKit,
  sends: readonly { id: string; data: unknown; options?: Record<string, unknown> }[],
): Promise<Map<string, Message<unknown>>> {
  const ep = new Endpoint(t, "q");
  const consumer = ep.consumer<unknown>();
  const errors = t.errors(consumer);
  const got = await t.collect<unknown>(consumer);
  const publisher = ep.publisher<unknown>();
  for (const { id, data, options } of sends)
    await publisher.send(data, { ...options, messageId: id });
  // A message that does not decode never reaches the callback: fail on its report at once.
  const reported = errors.count(1).then(
    () => {
      throw new Error(
        `expected ${sends.length} message(s) [${sends.map((s) => s.id).join(", ")}] to round-trip; the consumer reported ${errors.summary()} (received ${got.summary()})`,
      );
    },
    // No report within the wait: the count's own timeout says what is missing.
    () => new Promise<never>(() => undefined),
  );
  await Promise.race([got.count(sends.length), reported]);
  return new Map(got.items.map((m) => [m.properties.messageId ?? "?", m]));
}

function bytes(message: Message<unknown> | undefined): number[] {
  return Array.from(message!.payload as Uint8Array);
}

const SAMPLE = {
  text: "carrot",
  int: 42,
  negative: -7,
  float: 1.5,
  yes: true,
  no: false,
  nothing: null,
  list: [1, "two", { three: 3 }],
  nested: { a: { b: "c" } },
};

const codecs: ConformanceCase = {
  id: "codecs",
  title: "every built-in codec round-trips, and the content type travels with the message",
  async run(t) {
    const binary = Uint8Array.from([0, 1, 2, 127, 128, 254, 255]);
    const got = await roundTrip(t, [
      { id: "json", data: SAMPLE, options: { serializer: "json" } },
      { id: "text", data: "plain text", options: { serializer: "text" } },
      { id: "binary", data: binary, options: { serializer: "binary" } },
      { id: "msgpack", data: SAMPLE, options: { serializer: "msgpack" } },
    ]);
    t.expect(got.get("json")!.payload).toEqual(SAMPLE);
    t.expect(got.get("json")!.contentType).toBe("application/json");
    t.expect(got.get("text")!.payload).toBe("plain text");
    t.expect(got.get("text")!.contentType).toBe("text/plain");
    t.expect(bytes(got.get("binary"))).toEqual(Array.from(binary));
    t.expect(got.get("binary")!.contentType).toBe("application/octet-stream");
    t.expect(got.get("msgpack")!.payload).toEqual(SAMPLE);
    t.expect(got.get("msgpack")!.contentType).toBe("application/x-msgpack");
  },
};

// Several scripts, astral characters (surrogate pairs), a combining mark,
// NUL, the JS line separators and the replacement character itself.
const UNICODE =
  "Grüße · 日本語 · العربية · עברית · 🥕🐇 · e\u0301 · \u0000 · \u2028\u2029 · \uFFFD";

const unicode: ConformanceCase = {
  id: "unicode",
  title: "unicode survives in bodies (json, text, msgpack) and in header values",
  async run(t) {
    const got = await roundTrip(t, [
      { id: "json", data: { s: UNICODE }, options: { headers: { note: UNICODE } } },
      { id: "text", data: UNICODE, options: { serializer: "text" } },
      { id: "msgpack", data: UNICODE, options: { serializer: "msgpack" } },
    ]);
    t.expect(got.get("json")!.payload).toEqual({ s: UNICODE });
    t.expect(got.get("json")!.headers.note).toBe(UNICODE);
    t.expect(got.get("text")!.payload).toBe(UNICODE);
    t.expect(got.get("msgpack")!.payload).toBe(UNICODE);
  },
};

const empty: ConformanceCase = {
  id: "empty",
  title: "an empty body round-trips (text, binary, and the empty JSON string)",
  async run(t) {
    const got = await roundTrip(t, [
      { id: "text", data: "", options: { serializer: "text" } },
      { id: "binary", data: new Uint8Array(0), options: { serializer: "binary" } },
      { id: "json", data: "" },
    ]);
    t.expect(got.get("text")!.payload).toBe("");
    t.expect(got.get("text")!.body.byteLength).toBe(0);
    t.expect(bytes(got.get("binary"))).toEqual([]);
    t.expect(got.get("json")!.payload).toBe("");
  },
};

const allBytes: ConformanceCase = {
  id: "all-bytes",
  title: "binary bodies carry every byte value, in both orders, untouched",
  async run(t) {
    const up = Array.from({ length: 256 }, (_, i) => i);
    const data = Uint8Array.from([...up, ...up.reverse()]);
    const got = await roundTrip(t, [{ id: "bytes", data, options: { serializer: "binary" } }]);
    t.expect(bytes(got.get("bytes"))).toEqual(Array.from(data));
  },
};

const HEADERS = {
  text: "value",
  int: 7,
  negative: -3,
  float: 2.25,
  yes: true,
  no: false,
  nothing: null,
  list: ["a", "b"],
  table: { inner: "x", n: 1 },
  // Objects shaped like the tags a backend may use to carry dates and bytes in
  // JSON: a user's own must come back as the objects they are.
  tagLike: { $date: 5, $bytes: "AAE=", $d: "x", $b: "y", $o: { $date: 6 } },
};

const properties: ConformanceCase = {
  id: "properties",
  title:
    "properties (messageId, correlationId, replyTo, priority, timestamp, type, appId, deliveryMode) and headers survive",
  async run(t) {
    // Whole seconds: AMQP timestamps have a resolution of one second.
    const timestamp = new Date(Math.floor(Date.now() / 1000) * 1000);
    const sent = {
      correlationId: "corr-1",
      replyTo: "reply-queue",
      priority: 3,
      type: "feed.import",
      appId: "conformance",
    };
    const got = await roundTrip(t, [
      { id: "persistent", data: "p", options: { ...sent, timestamp, headers: HEADERS } },
      { id: "transient", data: "t", options: { deliveryMode: "transient" } },
    ]);
    const message = got.get("persistent")!;
    const p = message.properties;
    t.expect({
      messageId: p.messageId,
      correlationId: p.correlationId,
      replyTo: p.replyTo,
      priority: p.priority,
      type: p.type,
      appId: p.appId,
      deliveryMode: p.deliveryMode,
    }).toEqual({ ...sent, messageId: "persistent", deliveryMode: 2 });
    t.expect(p.timestamp).toBeInstanceOf(Date);
    t.expect(p.timestamp!.getTime()).toBe(timestamp.getTime());
    // Backends may add their own headers; the ones sent must all be there, equal.
    const received = Object.fromEntries(Object.keys(HEADERS).map((k) => [k, message.headers[k]]));
    t.expect(received).toEqual(HEADERS);
    t.expect(got.get("transient")!.properties.deliveryMode).toBe(1);
  },
};

const nonFiniteHeaders: ConformanceCase = {
  id: "non-finite-headers",
  title:
    "NaN and the infinities in headers round-trip, or the send is refused with a carrot error and nothing is sent; the connection keeps working",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const got = await t.collect<unknown>(ep.consumer<unknown>(), "ack");
    const publisher = ep.publisher<unknown>();
    const headers = {
      notANumber: Number.NaN,
      infinite: Number.POSITIVE_INFINITY,
      belowAll: Number.NEGATIVE_INFINITY,
    };
    const outcome = await publisher.send("odd", { headers }).then(
      () => "sent" as const,
      (error: unknown) => error,
    );
    // AMQP brokers cannot carry them (RabbitMQ drops the connection on one).
    if (outcome !== "sent") t.expect(outcome).toBeInstanceOf(CarrotError);
    await publisher.send(SENTINEL, { serializer: "text" });
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(
      t.expect,
      got.items,
      outcome === "sent" ? [SENTINEL, "odd"] : [SENTINEL],
      `after a send that ${outcome === "sent" ? "resolved" : "was refused"}`,
    );
    const odd = got.items.find((m) => m.payload === "odd");
    if (odd) {
      const received = Object.fromEntries(Object.keys(headers).map((k) => [k, odd.headers[k]]));
      t.expect(received).toEqual(headers);
    }
  },
};

const maxSize: ConformanceCase = {
  id: "max-size",
  title:
    "the largest declared message round-trips; one byte more fails with MessageTooLargeError, sending nothing",
  budget: 12,
  async run(t) {
    const size = t.caps.maxMessageSize;
    const ep = new Endpoint(t, "q");
    const got = await t.collect<unknown>(ep.consumer<unknown>(), "ack", t.timeoutMs * 4);
    const publisher = t.publisher<unknown>(t.main, {
      exchange: ep.exchange,
      routingKey: ep.routingKey,
      serializer: "binary",
    });
    const largest = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
    await publisher.send(largest);
    await t
      .expect(publisher.send(new Uint8Array(size + 1)))
      .rejects.toBeInstanceOf(MessageTooLargeError);
    await publisher.send(SENTINEL, { serializer: "text" });
    // Both, not the sentinel alone: without `ordering` the large message may come after it.
    await got.count(2);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, [largest, SENTINEL], `a send of ${size} bytes, one of more`);
    const body = got.items.find((m) => m.payload !== SENTINEL)!.payload as Uint8Array;
    const differsAt = body.findIndex((byte, i) => byte !== largest[i]);
    t.expect(
      differsAt,
      `the first byte of the largest message that differs from the sent one`,
    ).toBe(-1);
  },
};

const undecodable: ConformanceCase = {
  id: "undecodable",
  title:
    "unaccepted or undecodable messages: the consumer keeps running, reports why, and rejects them (to the DLQ when deadLetter)",
  async run(t) {
    const route = deadLetterRoute(t);
    const ep = new Endpoint(t, "q", t.caps.deadLetter ? route.queueArguments : {});
    // Accepts json only: a text message is a known codec, but not accepted here.
    if (t.caps.deadLetter) await route.dlq.consumer<unknown>().declare();
    const consumer = ep.consumer<unknown>(t.main, { accept: ["json"] });
    const errors = t.errors(consumer);
    const got = await t.collect<unknown>(consumer);
    const publisher = ep.publisher<unknown>();
    const bad = [
      {
        id: "unknown-type",
        error: ContentTypeNotAcceptedError,
        data: Buffer.from("?"),
        options: { contentType: "application/x-carrot-unknown" },
      },
      {
        id: "not-accepted",
        error: ContentTypeNotAcceptedError,
        data: "plain",
        options: { serializer: "text" },
      },
      {
        id: "bad-json",
        error: DecodeError,
        data: "{not json",
        options: { contentType: "application/json" },
      },
    ] as const;
    for (const { id, data, options } of bad)
      await publisher.send(data, { ...options, messageId: id });
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await errors.count(bad.length);
    await t.nothingMoreOn(got);
    // Each reported once (rejected, not requeued into a loop), and none reached the callback.
    expectExactly(t.expect, got.items, [SENTINEL], "callbacks of a consumer accepting json only");
    t.expect(errors.items).toHaveLength(bad.length);
    for (const { id, error } of bad) {
      const event = errors.items.find((e) => e.message?.properties.messageId === id);
      t.expect({ id, error: event?.error.name }).toEqual({ id, error: error.name });
      t.expect(event!.error).toBeInstanceOf(error);
    }
    if (!t.caps.deadLetter) return;
    // Read raw from the DLQ with fetch(): a consumer would refuse to decode them again.
    const dlq = route.dlq.consumer<unknown>();
    const letters = await fetchMessages(dlq, bad.length, t.timeoutMs);
    t.expect(letters.map((m) => m.properties.messageId).sort()).toEqual(
      bad.map((b) => b.id).sort(),
    );
    const unknown = letters.find((m) => m.properties.messageId === "unknown-type")!;
    t.expect(unknown.contentType).toBe("application/x-carrot-unknown");
    t.expect(Array.from(unknown.body)).toEqual(Array.from(Buffer.from("?")));
    await Promise.all(letters.map((m) => m.ack()));
  },
};

/** Message content: codecs, unicode, empty and binary bodies, properties and headers, the size limit, undecodable messages. `describeData` runs it. */
export const data: ConformanceGroup = {
  name: "data",
  cases: [codecs, unicode, empty, allBytes, properties, nonFiniteHeaders, maxSize, undecodable],
};
