import { brotliCompressSync, constants, deflateSync } from "node:zlib";
import { ContentTypeNotAcceptedError, DecodeError, TooLargeToDecodeError } from "@carrot/core";
import fc from "fast-check";
import type { ForeignMessage } from "./options.js";

/**
 * What other clients can put on a queue: a fixed corpus of the known ways to
 * hurt a consumer, and seeded generated garbage. The hostile group writes
 * each straight onto the broker and checks what the consumer did with it.
 */

/** What the consumer must do with an item: reject and report it, deliver it, or either. */
export type Outcome = "rejected" | "delivered" | "either";

export interface HostileItem {
  readonly id: string;
  /** Written with `hostile.write`... */
  readonly message?: ForeignMessage;
  /** ...or with `hostile.writeEnvelope` (backends with a text envelope only). */
  readonly envelope?: { readonly text: string; readonly body: Uint8Array };
  readonly outcome: Outcome;
  /** The class a rejection is reported with. */
  readonly error?: abstract new (
    ...args: never[]
  ) => Error;
}

/** The limits the corpus sizes its bombs by. */
export interface CorpusLimits {
  /** The consumer's `maxDecompressedSize` (its default on this backend). */
  readonly maxDecompressedSize: number;
}

const JSON_TYPE = "application/json";
const text = (value: string) => Buffer.from(value, "utf8");
const json = (value: unknown) => text(JSON.stringify(value));

/** Headers as a foreign writer's JSON parser makes them: `__proto__` an own key, not a prototype. */
const parsed = (jsonText: string) => JSON.parse(jsonText) as Record<string, unknown>;

/** `depth` arrays, one inside the other. */
function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/**
 * Zeros that inflate to `size` bytes, packed small. Made once per size: the
 * brotli form of 512 MiB is about 100 KB and takes a tenth of a second.
 */
const bombs = new Map<string, Buffer>();
function bomb(kind: "brotli" | "zlib", size: number): Buffer {
  const key = `${kind}:${size}`;
  let packed = bombs.get(key);
  if (!packed) {
    const zeros = Buffer.alloc(size);
    packed =
      kind === "brotli"
        ? brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })
        : deflateSync(zeros, { level: 9 });
    bombs.set(key, packed);
  }
  return packed;
}

/** The known ways to hurt a consumer through `hostile.write`. Every body differs from every other. */
export function messageCorpus({ maxDecompressedSize }: CorpusLimits): HostileItem[] {
  const item = (
    id: string,
    message: ForeignMessage,
    outcome: Outcome,
    error?: HostileItem["error"],
  ): HostileItem => ({ id, message, outcome, error });
  const typed = (id: string, headers: Record<string, unknown>, outcome: Outcome = "delivered") =>
    item(id, { body: json({ id }), contentType: JSON_TYPE, headers }, outcome, DecodeError);
  return [
    item("bad-json", { body: text("{not json"), contentType: JSON_TYPE }, "rejected", DecodeError),
    item(
      "empty-json",
      { body: new Uint8Array(0), contentType: JSON_TYPE },
      "rejected",
      DecodeError,
    ),
    item(
      "unknown-type",
      { body: text("unknown-type"), contentType: "application/x-carrot-unknown" },
      "rejected",
      ContentTypeNotAcceptedError,
    ),
    // A pickle that would run a shell command: no codec accepted by default can run code.
    item(
      "pickle",
      {
        body: text("cos\nsystem\n(S'echo pwned'\ntR."),
        contentType: "application/x-python-serialize",
      },
      "rejected",
      ContentTypeNotAcceptedError,
    ),
    item(
      "non-utf8-text",
      { body: Uint8Array.from([0xff, 0xfe, 0x80, 0x41]), contentType: "text/plain" },
      "either",
      DecodeError,
    ),
    item(
      "every-byte-untyped",
      { body: Uint8Array.from({ length: 256 }, (_, i) => i) },
      "delivered",
    ),
    item(
      "odd-content-type",
      { body: json({ id: "odd-content-type" }), contentType: " APPLICATION/JSON ; charset=utf-8" },
      "delivered",
    ),
    item(
      "brotli-bomb",
      {
        body: bomb("brotli", 4 * maxDecompressedSize),
        contentType: JSON_TYPE,
        headers: { compression: "application/x-brotli" },
      },
      "rejected",
      TooLargeToDecodeError,
    ),
    item(
      "zlib-bomb",
      {
        body: bomb("zlib", 2 * maxDecompressedSize),
        contentType: JSON_TYPE,
        headers: { compression: "application/x-gzip" },
      },
      "rejected",
      TooLargeToDecodeError,
    ),
    item(
      "bad-compression",
      {
        body: text("not a zlib stream"),
        contentType: JSON_TYPE,
        headers: { compression: "application/x-gzip" },
      },
      "rejected",
      DecodeError,
    ),
    item(
      "unknown-compression",
      {
        body: json({ id: "unknown-compression" }),
        contentType: JSON_TYPE,
        headers: { compression: "application/x-lzma" },
      },
      "rejected",
      DecodeError,
    ),
    typed("compression-not-text", { compression: 5 }),
    // A hidden `compression` would make this plain JSON undecodable: it must stay a key.
    typed("proto-header", parsed('{"__proto__":{"compression":"application/x-gzip"},"a":1}')),
    typed("constructor-header", {
      constructor: { prototype: { polluted: true } },
      toString: "x",
      hasOwnProperty: 1,
    }),
    typed("date-lookalike", { when: { $d: "garbage" } }, "either"),
    typed("bytes-lookalike", { bytes: { $b: "@@@" } }, "either"),
    typed("number-lookalike", { number: { $n: "seven" } }, "either"),
    typed("object-lookalike", { object: { $o: null } }, "either"),
    typed("amqp-decimal-lookalike", { d: { "!": "decimal", value: null } }),
    typed("amqp-timestamp-lookalike", { t: { "!": "timestamp", value: "soon" } }),
    typed("deep-headers", { deep: nested(100) }, "either"),
    typed("wide-headers", Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`h${i}`, i]))),
    typed("long-header", { long: "x".repeat(32 * 1024) }),
  ];
}

/**
 * Broken envelopes for `hostile.writeEnvelope`. The Redis and SQS
 * envelopes name some fields differently (content type `c` / `ct`, exchange
 * `e` / `x`), so a wrong type is written under both names.
 */
export function envelopeCorpus(): HostileItem[] {
  const texts: [string, string, Outcome][] = [
    ["null", "null", "rejected"],
    ["not-json", "{{{", "rejected"],
    ["array", "[]", "rejected"],
    ["number", "5", "rejected"],
    ["string", '"text"', "rejected"],
    ["content-type-number", '{"c":5,"ct":5}', "rejected"],
    ["encoding-array", '{"n":[],"ce":[]}', "rejected"],
    ["exchange-object", '{"e":{},"x":{}}', "rejected"],
    ["routing-key-number", '{"k":1}', "rejected"],
    ["headers-null", '{"h":null}', "rejected"],
    ["headers-array", '{"h":[1]}', "rejected"],
    ["headers-string", '{"h":"x"}', "rejected"],
    ["properties-null", '{"p":null}', "rejected"],
    ["timestamp-text", '{"p":{"timestamp":"yesterday"}}', "rejected"],
    ["priority-text", '{"p":{"priority":"high"}}', "rejected"],
    ["delivery-mode-7", '{"p":{"deliveryMode":7}}', "rejected"],
    ["date-garbage", '{"h":{"x":{"$d":"garbage"}}}', "rejected"],
    ["bytes-garbage", '{"h":{"x":{"$b":"@@"}}}', "rejected"],
    ["number-garbage", '{"h":{"x":{"$n":"seven"}}}', "rejected"],
    ["object-garbage", '{"h":{"x":{"$o":null}}}', "rejected"],
    ["deep", `{"h":{"x":${JSON.stringify(nested(100))}}}`, "rejected"],
    [
      "proto",
      '{"h":{"__proto__":{"$o":{"compression":"application/x-gzip"}}},"c":"application/json","ct":"application/json"}',
      "delivered",
    ],
    ["truncated", '{"h":{"a":"b"},"p":{"messageId":"m', "rejected"],
    ["huge-garbage", `{"h":${"[".repeat(50_000)}`, "rejected"],
    ["unknown-body-form", '{"b":"weird"}', "either"],
  ];
  return texts.map(([id, envelopeText, outcome]) => ({
    id: `envelope-${id}`,
    envelope: { text: envelopeText, body: id === "proto" ? json({ id }) : text(`envelope-${id}`) },
    outcome,
    error: DecodeError,
  }));
}

const CONTENT_TYPES = [
  JSON_TYPE,
  "text/plain",
  "application/x-msgpack",
  "application/octet-stream",
  "application/x-unknown",
  undefined,
];
const COMPRESSIONS = ["application/x-gzip", "application/x-brotli", "zlib", "lzma", "", undefined];

/**
 * Header names a generator uses: ordinary ones and the ones that bite. Not
 * `x-death`: RabbitMQ 3.10 itself crashes the queue when it dead-letters a
 * message whose `x-death` is not a list of tables (a broker bug no client
 * can stop; see the amqplib backend's README).
 */
const headerName = fc.oneof(
  fc.stringMatching(/^[a-z$_][a-z0-9_]{0,10}$/),
  fc.constantFrom("__proto__", "constructor", "compression", "$d", "$o", "!"),
);

/**
 * `count` generated garbage messages, the same for the same seed (a failure
 * names the seed, and the run can be replayed). Each body ends in its index,
 * so that no two are alike.
 */
export function generatedCorpus(
  seed: number,
  count: number,
  withEnvelopes: boolean,
): HostileItem[] {
  const message = fc.record({
    body: fc.uint8Array({ maxLength: 48 }),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    compression: fc.constantFrom(...COMPRESSIONS),
    headers: fc.dictionary(headerName, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  });
  const envelope = fc.oneof(
    fc.json({ maxDepth: 4 }),
    fc.string({ minLength: 1, maxLength: 64 }),
    fc
      .record({ h: fc.jsonValue({ maxDepth: 3 }), p: fc.jsonValue({ maxDepth: 2 }) })
      .map((e) => JSON.stringify(e)),
  );
  const kinds = withEnvelopes
    ? fc.oneof(
        message.map((m) => ({ m })),
        envelope.map((e) => ({ e })),
      )
    : message.map((m) => ({ m }));
  return fc.sample(kinds, { seed, numRuns: count }).map((kind, i): HostileItem => {
    const id = `generated-${seed}-${i}`;
    const tail = text(`#${i}`);
    if ("e" in kind) {
      return { id, envelope: { text: kind.e, body: tail }, outcome: "either", error: DecodeError };
    }
    const { body, contentType, compression, headers } = kind.m;
    // Built as a JSON parser would: a generated `__proto__` key stays a key.
    const all = parsed(JSON.stringify(headers));
    if (compression !== undefined) all.compression = compression;
    return {
      id,
      message: { body: Buffer.concat([body, tail]), contentType, headers: all },
      outcome: "either",
      error: DecodeError,
    };
  });
}
