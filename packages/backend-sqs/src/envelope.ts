import type { MessageAttributeValue } from "@aws-sdk/client-sqs";
import {
  type BodyForm,
  EnvelopeReader,
  EnvelopeWriter,
  newHeaders,
  type RawMessage,
} from "@carrot/core/backend";
import { COPY_RESERVE_BYTES } from "./message-copies.js";

/**
 * How a carrot message is laid out on SQS. SQS gives a message a text body
 * and at most 10 attributes; carrot uses one attribute, `carrot` (String),
 * holding core's envelope (content type and encoding, headers, properties,
 * the exchange and routing key it was published with, and how the body is
 * carried). The body:
 * - as the SQS body itself when its bytes are UTF-8 text SQS accepts (JSON,
 *   plain text: readable by any SQS tool);
 * - else base64 in the SQS body (SQS bodies must be XML-legal Unicode);
 * - an empty body (which SQS refuses) is marked, with "-" as the SQS body.
 * Envelopes written before core's format had a version used its field names
 * already, so the reader's defaults read them.
 */
export const ENVELOPE_ATTRIBUTE = "carrot";
const EMPTY_BODY = "-";

export interface Routed {
  exchange: string;
  routingKey: string;
}

export interface WireMessage {
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  /** Bytes SQS counts against MaximumMessageSize: body, attribute name, type and value. */
  size: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/**
 * SQS accepts #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. fauxqs
 * (and so perhaps other emulators) also refuses the last range, so carrot
 * sends only the BMP part raw: bodies with other characters go as base64, and
 * the envelope's JSON writes them as \u escapes, which parse back the same.
 */
const SQS_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/;
const NOT_SQS_TEXT = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/g;

/** The envelope as SQS gets it: the attribute, and the bytes SQS counts for it (name, type and value). */
interface EnvelopeAttribute {
  attributes: Record<string, MessageAttributeValue>;
  size: number;
}

function envelopeAttribute(envelope: string): EnvelopeAttribute {
  const json = envelope.replace(
    NOT_SQS_TEXT,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return {
    // Frozen: one object serves every message of the same shape.
    attributes: Object.freeze({
      [ENVELOPE_ATTRIBUTE]: Object.freeze({ DataType: "String", StringValue: json }),
    }),
    size: ENVELOPE_ATTRIBUTE.length + "String".length + Buffer.byteLength(json),
  };
}

const sentEnvelopes = new EnvelopeWriter(envelopeAttribute);
const envelopes = new EnvelopeReader();

export function toWire(message: RawMessage, routed: Routed): WireMessage {
  const text = message.body.byteLength === 0 ? undefined : sqsText(message.body);
  const form: BodyForm | undefined =
    message.body.byteLength === 0 ? "empty" : text === undefined ? "base64" : undefined;
  const body =
    form === undefined
      ? (text as string)
      : form === "empty"
        ? EMPTY_BODY
        : Buffer.from(message.body).toString("base64");
  const envelope = sentEnvelopes.write(routed.exchange, routed.routingKey, message, form);
  return {
    body,
    attributes: envelope.attributes,
    size: (form === undefined ? message.body.byteLength : body.length) + envelope.size,
  };
}

/** A received message as carrot's, with the exchange and routing key it was published with. */
export interface Received extends Routed {
  message: RawMessage;
}

/**
 * A received SQS message as carrot's. Any SQS client can send any
 * attribute: a `carrot` attribute that carrot cannot read makes the
 * message `unreadable` (with its SQS body as the body), for core to reject
 * and report; this never throws for what a message holds. The message and
 * its routing come apart, as the delivery wants them: taking them apart
 * with a rest pattern cost every received message a generic copy.
 */
export function fromWire(
  body: string | undefined,
  attributes: Record<string, MessageAttributeValue> | undefined,
): Received {
  const raw = attributes?.[ENVELOPE_ATTRIBUTE]?.StringValue;
  // A message some other SQS client sent: its body is all there is.
  if (raw === undefined) return { message: foreign(body), exchange: "", routingKey: "" };
  const envelope = envelopes.read(raw);
  if (envelope instanceof Error)
    return { message: { ...foreign(body), unreadable: envelope }, exchange: "", routingKey: "" };
  const { bodyForm } = envelope;
  return {
    message: {
      body:
        bodyForm === "empty"
          ? new Uint8Array(0)
          : pooledBytes(body ?? "", bodyForm === "base64" ? "base64" : "utf8"),
      contentType: envelope.contentType,
      contentEncoding: envelope.contentEncoding,
      headers: envelope.headers,
      properties: envelope.properties,
    },
    exchange: envelope.exchange,
    routingKey: envelope.routingKey,
  };
}

/**
 * The bytes `text` holds, decoded into Node's Buffer pool and handed on as a
 * plain Uint8Array view of them (amqplib's bodies are views of its read
 * buffer in the same way). An array of its own would cost every received
 * message an ArrayBuffer of its own, allocated outside V8's heap and swept
 * apart: 1.4 µs for 256 bytes, against 0.2 µs here.
 */
function pooledBytes(text: string, encoding: "utf8" | "base64"): Uint8Array {
  const bytes = Buffer.from(text, encoding);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function foreign(body: string | undefined): RawMessage {
  return { body: pooledBytes(body ?? "", "utf8"), headers: newHeaders(), properties: {} };
}

/** Room kept for the exchange and routing key (AMQP caps each at 255 bytes), JSON-quoted. */
const ROUTING_RESERVE = 1024;

/**
 * The size limits of a backend whose queues take `queueLimit` bytes.
 * `maxBody` is the capability: the largest body a binary message with no
 * headers may have, counting its worst case (base64, 4 characters per 3
 * bytes) and leaving room for exchange and routing key, and for carrot's
 * delay and count attributes (message-copies.ts). Every message is held to it, whatever its content,
 * so that the limit is one number.
 */
export class SizeLimit {
  readonly maxBody: number;
  readonly #room: number;
  readonly #worstCases = new EnvelopeWriter(envelopeAttribute);

  constructor(queueLimit: number) {
    this.#room = queueLimit - ROUTING_RESERVE - COPY_RESERVE_BYTES;
    const baseline = this.#worstCaseSize({
      body: new Uint8Array(0),
      contentType: "application/octet-stream",
      contentEncoding: "binary",
      headers: {},
      properties: { deliveryMode: 2 },
    });
    this.maxBody = Math.floor((this.#room - baseline) / 4) * 3;
  }

  /**
   * What core compares with `maxBody`: the body length when the message fits
   * (body, headers and properties, at worst case), otherwise more than
   * `maxBody`, so that core refuses it before anything is sent.
   */
  measure(message: RawMessage): number {
    const n = message.body.byteLength;
    const fits = n <= this.maxBody && this.#worstCaseSize(message) + base64Length(n) <= this.#room;
    return fits ? n : Math.max(n, this.maxBody + 1);
  }

  /** The message's size on SQS, less its body, if the body went as base64. */
  #worstCaseSize(message: RawMessage): number {
    return this.#worstCases.write("", "", message, "base64").size;
  }
}

function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** The body as an SQS text body, when its bytes are UTF-8 that SQS accepts and that round-trip exactly. */
function sqsText(body: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return undefined;
  }
  return SQS_TEXT.test(text) ? text : undefined;
}
