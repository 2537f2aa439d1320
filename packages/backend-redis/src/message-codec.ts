import {
  type HeadersJson,
  headersFromJson,
  headersToJson,
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

/** Decodes one entry's flat field list (Buffers, as read with the *Buffer commands). */
export function decodeEntry(id: string, fields: Buffer[]): StoredEntry {
  let body: Buffer = NO_BODY;
  let envelope: Envelope | undefined;
  let expiresAt: number | undefined;
  let redelivered = false;
  let deadReason: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString("latin1"); // field names are ASCII: no UTF-8 decoding needed
    const value = fields[i + 1]!;
    if (name === "b") body = value;
    else if (name === "m") envelope = parseEnvelope(value.toString());
    else if (name === "x") expiresAt = Number(value.toString());
    else if (name === "r") redelivered = true;
    else if (name === "why") deadReason = value.toString();
  }
  const e = envelope ?? { e: "", k: "", h: {}, p: {} };
  return {
    id,
    exchange: e.e,
    routingKey: e.k,
    expiresAt,
    redelivered,
    deadReason,
    message: {
      body,
      contentType: e.c,
      contentEncoding: e.n,
      headers: e.h ?? {},
      properties: e.p ?? {},
    },
  };
}

/**
 * Parsed envelopes whose headers and properties hold only plain values, by
 * their text. Most messages of a queue share exchange, routing key, content
 * type and properties, so their envelope is parsed once (a third of the cost
 * of reading an entry).
 */
const flatEnvelopes = new BoundedCache<string, Envelope>(1000);

/**
 * An entry written by something else than carrot may hold no valid envelope:
 * it is still delivered (with no content type), so that the consumer rejects
 * it through its usual path instead of the subscription choking on it.
 */
function parseEnvelope(text: string): Envelope | undefined {
  const flat = flatEnvelopes.get(text);
  // Fresh header and property objects: user code may change a message's.
  if (flat) return { ...flat, h: { ...flat.h }, p: { ...flat.p } };
  let json: EnvelopeJson;
  try {
    json = JSON.parse(text) as EnvelopeJson;
  } catch {
    return undefined;
  }
  const envelope: Envelope = {
    ...json,
    h: headersFromJson(json.h ?? {}),
    p: propertiesFromJson(json.p ?? {}),
  };
  if (isFlat(envelope.h) && isFlat(envelope.p)) {
    flatEnvelopes.set(text, { ...envelope, h: { ...envelope.h }, p: { ...envelope.p } });
  }
  return envelope;
}

/** An object whose values are all strings, numbers, booleans or null: a shallow copy is a full one. */
function isFlat(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  for (const v of Object.values(value)) {
    if (v !== null && typeof v === "object") return false;
  }
  return true;
}
