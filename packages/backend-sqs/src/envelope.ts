import type { MessageAttributeValue } from "@aws-sdk/client-sqs";
import {
  DecodeError,
  envelopeString,
  headersFromJson,
  headersToJson,
  isRecord,
  newHeaders,
  type PropertiesJson,
  propertiesFromJson,
  propertiesToJson,
  type RawMessage,
} from "@carrot/core/backend";

/**
 * How a carrot message is laid out on SQS. SQS gives a message a text body
 * and at most 10 attributes; carrot uses one attribute, `carrot` (String):
 * JSON of content type and encoding, headers, properties, the exchange and
 * routing key it was published with, and how the body is carried. The body:
 * - as the SQS body itself when its bytes are UTF-8 text SQS accepts (JSON,
 *   plain text: readable by any SQS tool);
 * - else base64 in the SQS body (SQS bodies must be XML-legal Unicode);
 * - an empty body (which SQS refuses) is marked, with "-" as the SQS body.
 */
export const ENVELOPE_ATTRIBUTE = "carrot";
const EMPTY_BODY = "-";

type BodyCarrier = "text" | "base64" | "empty";

interface Envelope {
  ct?: string;
  ce?: string;
  h?: Record<string, unknown>;
  p?: PropertiesJson;
  x?: string;
  k?: string;
  b?: Exclude<BodyCarrier, "text">;
}

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

function envelopeJson(envelope: Envelope): string {
  return JSON.stringify(envelope).replace(
    NOT_SQS_TEXT,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function toWire(message: RawMessage, routed: Routed): WireMessage {
  const text = message.body.byteLength === 0 ? undefined : sqsText(message.body);
  const carrier: BodyCarrier =
    message.body.byteLength === 0 ? "empty" : text === undefined ? "base64" : "text";
  const body =
    carrier === "text"
      ? (text as string)
      : carrier === "empty"
        ? EMPTY_BODY
        : Buffer.from(message.body).toString("base64");
  const envelope = sentEnvelopes.of(message, routed, carrier);
  return {
    body,
    attributes: envelope.attributes,
    size: (carrier === "text" ? message.body.byteLength : body.length) + envelope.size,
  };
}

/**
 * A received SQS message as carrot's. Any SQS client can send any
 * attribute: a `carrot` attribute that carrot cannot read makes the
 * message `unreadable` (with its SQS body as the body), for core to reject
 * and report; this never throws for what a message holds.
 */
export function fromWire(
  body: string | undefined,
  attributes: Record<string, MessageAttributeValue> | undefined,
): RawMessage & Routed {
  const raw = attributes?.[ENVELOPE_ATTRIBUTE]?.StringValue;
  // A message some other SQS client sent: its body is all there is.
  if (raw === undefined) return foreign(body);
  try {
    return fromEnvelope(body, raw);
  } catch (error) {
    return { ...foreign(body), unreadable: error as Error };
  }
}

function foreign(body: string | undefined): RawMessage & Routed {
  return {
    body: Buffer.from(body ?? "", "utf8"),
    headers: newHeaders(),
    properties: {},
    exchange: "",
    routingKey: "",
  };
}

const CARRIERS: readonly (string | undefined)[] = [undefined, "base64", "empty"];

function fromEnvelope(body: string | undefined, raw: string): RawMessage & Routed {
  let envelope: unknown;
  try {
    envelope = JSON.parse(raw);
  } catch {
    throw new DecodeError(`its '${ENVELOPE_ATTRIBUTE}' attribute is not JSON`);
  }
  if (!isRecord(envelope))
    throw new DecodeError(`its '${ENVELOPE_ATTRIBUTE}' attribute is not a JSON object`);
  const carrier = envelope.b;
  if (!CARRIERS.includes(carrier as string | undefined))
    throw new DecodeError(`its '${ENVELOPE_ATTRIBUTE}' attribute names no known body form`);
  const bytes =
    carrier === "empty"
      ? new Uint8Array(0)
      : new Uint8Array(Buffer.from(body ?? "", carrier === "base64" ? "base64" : "utf8"));
  return {
    body: bytes,
    contentType: envelopeString(envelope.ct, "content type"),
    contentEncoding: envelopeString(envelope.ce, "content encoding"),
    headers: headersFromJson(envelope.h),
    properties: propertiesFromJson(envelope.p),
    exchange: envelopeString(envelope.x, "exchange") ?? "",
    routingKey: envelopeString(envelope.k, "routing key") ?? "",
  };
}

/** Room kept for the exchange and routing key (AMQP caps each at 255 bytes), JSON-quoted. */
const ROUTING_RESERVE = 1024;

/**
 * The size limits of a backend whose queues take `queueLimit` bytes.
 * `maxBody` is the capability: the largest body a binary message with no
 * headers may have, counting its worst case (base64, 4 characters per 3
 * bytes) and leaving room for exchange and routing key. Every message is
 * held to it, whatever its content, so that the limit is one number.
 */
export class SizeLimit {
  readonly maxBody: number;
  readonly #room: number;
  readonly #worstCases = new LastEnvelope();

  constructor(queueLimit: number) {
    this.#room = queueLimit - ROUTING_RESERVE;
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
    return this.#worstCases.of(message, UNROUTED, "base64").size;
  }
}

const UNROUTED: Routed = { exchange: "", routingKey: "" };

function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** The envelope as SQS gets it: the attribute, and the bytes SQS counts for it (name, type and value). */
interface EnvelopeAttribute {
  attributes: Record<string, MessageAttributeValue>;
  size: number;
}

function envelopeAttribute(
  message: RawMessage,
  routed: Routed,
  carrier: BodyCarrier,
): EnvelopeAttribute {
  const json = envelopeJson(envelopeOf(message, routed, carrier));
  return {
    // Frozen: one object serves every message of the same shape.
    attributes: Object.freeze({
      [ENVELOPE_ATTRIBUTE]: Object.freeze({ DataType: "String", StringValue: json }),
    }),
    size: ENVELOPE_ATTRIBUTE.length + "String".length + Buffer.byteLength(json),
  };
}

/**
 * The last envelope made, kept for the next message of the same shape. A
 * publisher's messages mostly differ in their body alone: the same content
 * type, encoding and delivery mode, no headers, the same exchange and
 * routing key. For those the envelope is made once instead of per message
 * (building and escaping its JSON was a fifth of carrot's own cost per send).
 * Messages of other shapes, with headers or per-message properties, make
 * their own.
 */
class LastEnvelope {
  #contentType?: string;
  #contentEncoding?: string;
  #deliveryMode?: number;
  #exchange = "";
  #routingKey = "";
  #carrier?: BodyCarrier;
  #envelope?: EnvelopeAttribute;

  of(message: RawMessage, routed: Routed, carrier: BodyCarrier): EnvelopeAttribute {
    if (!isPlain(message)) return envelopeAttribute(message, routed, carrier);
    const { contentType, contentEncoding, properties } = message;
    if (
      this.#envelope === undefined ||
      contentType !== this.#contentType ||
      contentEncoding !== this.#contentEncoding ||
      properties.deliveryMode !== this.#deliveryMode ||
      routed.exchange !== this.#exchange ||
      routed.routingKey !== this.#routingKey ||
      carrier !== this.#carrier
    ) {
      this.#envelope = envelopeAttribute(message, routed, carrier);
      this.#contentType = contentType;
      this.#contentEncoding = contentEncoding;
      this.#deliveryMode = properties.deliveryMode;
      this.#exchange = routed.exchange;
      this.#routingKey = routed.routingKey;
      this.#carrier = carrier;
    }
    return this.#envelope;
  }
}

/** No headers, and no property but the delivery mode. */
function isPlain(message: RawMessage): boolean {
  for (const _ in message.headers) return false;
  for (const name in message.properties) if (name !== "deliveryMode") return false;
  return true;
}

const sentEnvelopes = new LastEnvelope();

function envelopeOf(message: RawMessage, routed: Routed, carrier: BodyCarrier): Envelope {
  const envelope: Envelope = {};
  if (message.contentType !== undefined) envelope.ct = message.contentType;
  if (message.contentEncoding !== undefined) envelope.ce = message.contentEncoding;
  if (Object.keys(message.headers).length > 0) envelope.h = headersToJson(message.headers);
  if (Object.keys(message.properties).length > 0) envelope.p = propertiesToJson(message.properties);
  if (routed.exchange !== "") envelope.x = routed.exchange;
  if (routed.routingKey !== "") envelope.k = routed.routingKey;
  if (carrier !== "text") envelope.b = carrier;
  return envelope;
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
