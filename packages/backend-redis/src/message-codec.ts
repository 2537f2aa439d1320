import {
  DecodeError,
  envelopeString,
  type HeadersJson,
  headersFromJson,
  headersToJson,
  isRecord,
  newHeaders,
  type PropertiesJson,
  propertiesFromJson,
  propertiesToJson,
  type RawMessage,
} from "@carrot/core/backend";
import { BoundedCache } from "./bounded-cache.js";

/** A stream entry as stored: `b` body, `m` envelope JSON, `x` expiry (ms), `r` "1" when redelivered. */
export interface StoredEntry {
  id: string;
  message: RawMessage;
  exchange: string;
  routingKey: string;
  expiresAt?: number;
  redelivered: boolean;
  /** In a dead stream: why the entry was dead-lettered. */
  deadReason?: string;
}

interface Envelope {
  e: string;
  k: string;
  c?: string;
  n?: string;
  h: RawMessage["headers"];
  p: RawMessage["properties"];
}

/** The envelope as stored: headers and properties as core's envelope JSON. */
interface EnvelopeJson extends Omit<Envelope, "h" | "p"> {
  h?: HeadersJson;
  p?: PropertiesJson;
}

/** The envelope: everything but the body, as JSON that keeps dates, bytes and the headers' shapes. */
export function encodeEnvelope(exchange: string, routingKey: string, message: RawMessage): string {
  const envelope: EnvelopeJson = {
    e: exchange,
    k: routingKey,
    c: message.contentType,
    n: message.contentEncoding,
    h: headersToJson(message.headers),
    p: propertiesToJson(message.properties),
  };
  return JSON.stringify(envelope);
}

/** An entry without a body field: one shared, since a zero-length buffer holds nothing to change. */
const NO_BODY = Buffer.alloc(0);

/**
 * Decodes one entry's flat field list (Buffers, as read with the *Buffer
 * commands). Any client can XADD anything to a stream: an entry whose
 * envelope carrot cannot read comes back `unreadable` (with its body), for
 * core to reject and report; this never throws for what an entry holds.
 */
export function decodeEntry(id: string, fields: Buffer[]): StoredEntry {
  let body: Buffer = NO_BODY;
  let envelopeText: string | undefined;
  let expiresAt: number | undefined;
  let redelivered = false;
  let deadReason: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString("latin1"); // field names are ASCII: no UTF-8 decoding needed
    const value = fields[i + 1]!;
    if (name === "b") body = value;
    else if (name === "m") envelopeText = value.toString();
    else if (name === "x") expiresAt = Number(value.toString());
    else if (name === "r") redelivered = true;
    else if (name === "why") deadReason = value.toString();
  }
  const expiry = Number.isFinite(expiresAt) ? expiresAt : undefined;
  // One object per entry: this is every consumed message's path.
  let e: Envelope;
  try {
    e = parseEnvelope(envelopeText);
  } catch (error) {
    const message = { body, headers: newHeaders(), properties: {}, unreadable: error as Error };
    return {
      id,
      exchange: "",
      routingKey: "",
      expiresAt: expiry,
      redelivered,
      deadReason,
      message,
    };
  }
  return {
    id,
    exchange: e.e,
    routingKey: e.k,
    expiresAt: expiry,
    redelivered,
    deadReason,
    message: { body, contentType: e.c, contentEncoding: e.n, headers: e.h, properties: e.p },
  };
}

/**
 * Parsed envelopes whose headers and properties hold only plain values, by
 * their text. Most messages of a queue share exchange, routing key, content
 * type and properties, so their envelope is parsed once (a third of the cost
 * of reading an entry). Only short texts are kept, so that the cache stays
 * small in bytes whatever the entries carry.
 */
const flatEnvelopes = new BoundedCache<string, Envelope>(1000);
const MAX_CACHED_ENVELOPE = 1024;

/** The envelope of an entry; a `DecodeError` when it is there but not carrot's. */
function parseEnvelope(text: string | undefined): Envelope {
  // An entry with a body alone (another client's XADD): its body is all there is.
  if (text === undefined) return { e: "", k: "", h: newHeaders(), p: {} };
  const flat = flatEnvelopes.get(text);
  // Fresh header and property objects: user code may change a message's.
  if (flat) return { ...flat, h: copyOf(flat.h), p: { ...flat.p } };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DecodeError("the entry's envelope is not JSON");
  }
  if (!isRecord(json)) throw new DecodeError("the entry's envelope is not a JSON object");
  const envelope: Envelope = {
    e: envelopeString(json.e, "exchange") ?? "",
    k: envelopeString(json.k, "routing key") ?? "",
    c: envelopeString(json.c, "content type"),
    n: envelopeString(json.n, "content encoding"),
    h: headersFromJson(json.h),
    p: propertiesFromJson(json.p),
  };
  if (text.length <= MAX_CACHED_ENVELOPE && isFlat(envelope.h) && isFlat(envelope.p)) {
    flatEnvelopes.set(text, { ...envelope, h: copyOf(envelope.h), p: { ...envelope.p } });
  }
  return envelope;
}

/** A copy of flat headers, as received headers are: without a prototype. */
function copyOf(headers: RawMessage["headers"]): RawMessage["headers"] {
  return Object.assign(newHeaders(), headers);
}

/** An object whose values are all strings, numbers, booleans or null: a shallow copy is a full one. */
function isFlat(value: object): boolean {
  for (const v of Object.values(value)) {
    if (v !== null && typeof v === "object") return false;
  }
  return true;
}
