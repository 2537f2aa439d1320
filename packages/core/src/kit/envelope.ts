// A broker without AMQP's message properties carries a body and little
// beside it (a field of a Redis stream entry, an attribute of an SQS
// message). The rest of a carrot message, the exchange and routing key it
// was published with, its content type and encoding, headers and
// properties, goes in one JSON text beside the body: the envelope. One
// format for every such backend, marked with its version so that a later
// format can be told from this one, and read totally: whatever another
// client put there gives an envelope or a DecodeError (for the backend to
// hand core as the message's `unreadable`), never an exception.
//
// Format 1, every field but "v" left out when empty:
//   {"v":1,"x":exchange,"k":routing key,"ct":content type,"ce":content encoding,
//    "h":headers,"p":properties,"b":body form}
// Headers and properties are as envelope-json.ts writes them. "b" is for a
// broker that carries text bodies only: "base64" when the body is carried
// as base64, "empty" when it is empty (and the broker carries a stand-in).
//
// Envelopes written before format 1 have no "v", and name the exchange,
// content type and encoding as their backend did (Redis: "e", "c", "n";
// SQS: as format 1): a reader given those names still reads them, so that
// messages stored before an upgrade survive it.

import type { RawMessage } from "../contract.js";
import {
  envelopeString,
  type HeadersJson,
  headersFromJson,
  headersToJson,
  isRecord,
  newHeaders,
  type PropertiesJson,
  propertiesFromJson,
  propertiesToJson,
} from "../envelope-json.js";
import { DecodeError } from "../errors.js";
import { BoundedCache } from "./bounded-cache.js";

/** The format this carrot writes, and the newest it reads. */
export const ENVELOPE_FORMAT = 1;

/** How the body is carried, when not as its own bytes or text. */
export type BodyForm = "base64" | "empty";
const BODY_FORMS: readonly unknown[] = [undefined, "base64", "empty"];

/** What of a message the envelope holds: all but the body. */
export type EnvelopedMessage = Pick<
  RawMessage,
  "contentType" | "contentEncoding" | "headers" | "properties"
>;

/** An envelope as read: the message's fields, and where it was published. */
export interface Envelope extends EnvelopedMessage {
  /** The exchange it was published to ("" for the default exchange). */
  exchange: string;
  /** The routing key it was published with. */
  routingKey: string;
  /** Absent when the body is carried as it is. */
  bodyForm?: BodyForm;
}

/** Where an envelope without a version keeps the fields whose names differed between backends. */
export interface UnversionedNames {
  /** The exchange's field name ("e" in Redis envelopes, "x" in SQS ones). */
  readonly exchange: string;
  /** The content type's field name ("c" in Redis envelopes, "ct" in SQS ones). */
  readonly contentType: string;
  /** The content encoding's field name ("n" in Redis envelopes, "ce" in SQS ones). */
  readonly contentEncoding: string;
}

const FORMAT_1_NAMES: UnversionedNames = {
  exchange: "x",
  contentType: "ct",
  contentEncoding: "ce",
};

/** Format 1 as JSON: only the fields that hold something. */
interface EnvelopeJson {
  v: number;
  x?: string;
  k?: string;
  ct?: string;
  ce?: string;
  h?: HeadersJson;
  p?: PropertiesJson;
  b?: BodyForm;
}

/** The envelope's JSON text, in format 1. */
export function encodeEnvelope(
  exchange: string,
  routingKey: string,
  message: EnvelopedMessage,
  bodyForm?: BodyForm,
): string {
  const { contentType, contentEncoding, headers, properties } = message;
  // Fields added only when set: measured faster than undefined ones that JSON.stringify skips.
  const json: EnvelopeJson = { v: ENVELOPE_FORMAT };
  if (exchange !== "") json.x = exchange;
  if (routingKey !== "") json.k = routingKey;
  if (contentType !== undefined) json.ct = contentType;
  if (contentEncoding !== undefined) json.ce = contentEncoding;
  if (hasKeys(headers)) json.h = headersToJson(headers);
  if (hasKeys(properties)) json.p = propertiesToJson(properties);
  if (bodyForm !== undefined) json.b = bodyForm;
  return JSON.stringify(json);
}

/**
 * Writes envelopes, and keeps the last one for the next message of the same
 * shape. A publisher's messages mostly differ in their body alone: the same
 * exchange, routing key, content type, encoding and delivery mode, no
 * headers. For those the envelope, and what the backend makes of its text
 * (`finish`: an attribute, its size), is made once instead of per message.
 * Messages with headers or other properties make their own.
 */
export class EnvelopeWriter<T> {
  readonly #finish: (text: string) => T;
  #last?: T;
  #exchange = "";
  #routingKey = "";
  #contentType?: string;
  #contentEncoding?: string;
  #deliveryMode?: number;
  #bodyForm?: BodyForm;

  constructor(finish: (text: string) => T) {
    this.#finish = finish;
  }

  /** What `finish` made of the message's envelope: the last one again when the message has its shape. */
  write(exchange: string, routingKey: string, message: EnvelopedMessage, bodyForm?: BodyForm): T {
    if (!isPlain(message)) {
      return this.#finish(encodeEnvelope(exchange, routingKey, message, bodyForm));
    }
    const { contentType, contentEncoding, properties } = message;
    if (
      this.#last === undefined ||
      exchange !== this.#exchange ||
      routingKey !== this.#routingKey ||
      contentType !== this.#contentType ||
      contentEncoding !== this.#contentEncoding ||
      properties.deliveryMode !== this.#deliveryMode ||
      bodyForm !== this.#bodyForm
    ) {
      this.#last = this.#finish(encodeEnvelope(exchange, routingKey, message, bodyForm));
      this.#exchange = exchange;
      this.#routingKey = routingKey;
      this.#contentType = contentType;
      this.#contentEncoding = contentEncoding;
      this.#deliveryMode = properties.deliveryMode;
      this.#bodyForm = bodyForm;
    }
    return this.#last;
  }
}

/** Envelopes read and kept: texts up to this long, so that the cache stays small in bytes. */
const MAX_CACHED_TEXT = 1024;
const TEXTS_KEPT = 1000;

/**
 * Reads envelopes of any format up to ENVELOPE_FORMAT, and those without a
 * version under `unversioned` names (by default format 1's). Most messages
 * of a queue share one envelope, so a short one whose headers and
 * properties hold only plain values is parsed once (parsing was a third of
 * the cost of reading a Redis entry); each read still gets its own headers
 * and properties, which user code may change.
 */
export class EnvelopeReader {
  readonly #names: UnversionedNames;
  readonly #flat = new BoundedCache<string, Envelope>(TEXTS_KEPT);

  constructor(unversioned: UnversionedNames = FORMAT_1_NAMES) {
    this.#names = unversioned;
  }

  /** The envelope in `text`, or a DecodeError saying what is wrong with it. */
  read(text: string): Envelope | DecodeError {
    const flat = this.#flat.get(text);
    if (flat) return copyOf(flat);
    let envelope: Envelope;
    try {
      envelope = this.#parse(text);
    } catch (error) {
      return error instanceof DecodeError
        ? error
        : new DecodeError("the envelope cannot be read", { cause: error });
    }
    if (text.length <= MAX_CACHED_TEXT && isFlat(envelope.headers) && isFlat(envelope.properties)) {
      this.#flat.set(text, copyOf(envelope));
    }
    return envelope;
  }

  /** Throws a DecodeError for what the text holds. */
  #parse(text: string): Envelope {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DecodeError("the envelope is not JSON");
    }
    if (!isRecord(json)) throw new DecodeError("the envelope is not a JSON object");
    const names = json.v === undefined ? this.#names : formatNames(json.v);
    const bodyForm = json.b;
    if (!BODY_FORMS.includes(bodyForm)) {
      throw new DecodeError("the envelope names no known body form");
    }
    const envelope: Envelope = {
      exchange: envelopeString(json[names.exchange], "exchange") ?? "",
      routingKey: envelopeString(json.k, "routing key") ?? "",
      contentType: envelopeString(json[names.contentType], "content type"),
      contentEncoding: envelopeString(json[names.contentEncoding], "content encoding"),
      headers: headersFromJson(json.h),
      properties: propertiesFromJson(json.p),
    };
    // Only where it is set: a cached envelope is copied per read, and most have none.
    if (bodyForm !== undefined) envelope.bodyForm = bodyForm as BodyForm;
    return envelope;
  }
}

/** The names of a versioned envelope; a DecodeError for a version this carrot cannot read. */
function formatNames(version: unknown): UnversionedNames {
  if (version === ENVELOPE_FORMAT) return FORMAT_1_NAMES;
  if (Number.isInteger(version) && (version as number) > ENVELOPE_FORMAT) {
    throw new DecodeError(
      `the envelope is in format ${version}, newer than this carrot reads (${ENVELOPE_FORMAT}): upgrade @carrot/core`,
    );
  }
  throw new DecodeError("the envelope's format version is not one carrot wrote");
}

/** A copy whose headers and properties are its own; headers, as received ones are, without a prototype. */
function copyOf(envelope: Envelope): Envelope {
  return {
    ...envelope,
    headers: Object.assign(newHeaders(), envelope.headers),
    properties: { ...envelope.properties },
  };
}

/** Values that are all strings, numbers, booleans or null: a shallow copy is a full one. */
function isFlat(record: object): boolean {
  for (const value of Object.values(record)) {
    if (value !== null && typeof value === "object") return false;
  }
  return true;
}

/** No headers, and no property but the delivery mode. */
function isPlain(message: EnvelopedMessage): boolean {
  for (const _ in message.headers) return false;
  for (const name in message.properties) if (name !== "deliveryMode") return false;
  return true;
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}
