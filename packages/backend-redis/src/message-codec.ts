import {
  type Envelope,
  EnvelopeReader,
  EnvelopeWriter,
  newHeaders,
  type RawMessage,
  type UnversionedNames,
} from "@carrot/core/backend";

/**
 * A stream entry as stored: `b` body, `m` envelope JSON, `x` expiry (ms),
 * `r` when re-added (requeued, given back): the deliveries of the message
 * before this entry, which Redis's pending-entries list counts from 1 again.
 */
export interface StoredEntry {
  id: string;
  message: RawMessage;
  exchange: string;
  routingKey: string;
  expiresAt?: number;
  redelivered: boolean;
  /** Deliveries of the message before this entry was added (`r`; 0 without it, and 1 for a count that is none). */
  earlierDeliveries: number;
  /** In a dead stream: why the entry was dead-lettered. */
  deadReason?: string;
}

/** How this backend named the envelope's fields before the versioned format: `{e,k,c,n,h,p}`. */
const REDIS_UNVERSIONED: UnversionedNames = {
  exchange: "e",
  contentType: "c",
  contentEncoding: "n",
};

const envelopes = new EnvelopeReader(REDIS_UNVERSIONED);
const sentEnvelopes = new EnvelopeWriter((text) => text);

/** The envelope stored as `text`, or the DecodeError that says why it cannot be read. */
export function readEnvelope(text: string): Envelope | Error {
  return envelopes.read(text);
}

/** The envelope: everything but the body, in core's envelope format. */
export function encodeEnvelope(exchange: string, routingKey: string, message: RawMessage): string {
  return sentEnvelopes.write(exchange, routingKey, message);
}

/** The one-letter field names of an entry (see StoredEntry), as bytes; `why` in a dead stream. */
const LETTER_B = 0x62;
const LETTER_M = 0x6d;
const LETTER_X = 0x78;
const LETTER_R = 0x72;
const WHY = Buffer.from("why");

/** An entry without a body field: one shared, since a zero-length buffer holds nothing to change. */
const NO_BODY = Buffer.alloc(0);

/**
 * The last envelope read, as bytes and as text. A queue's entries mostly
 * carry one envelope: comparing its bytes is cheaper than decoding them to a
 * new string each time, and the reader's cache finds the same string by its
 * hash, computed once, where a new one is hashed in full.
 */
let lastEnvelope: { bytes: Buffer; text: string } | undefined;
/** Longer envelopes are not kept: the copy would cost more than it may save. */
const MAX_KEPT_ENVELOPE = 1024;

/** The text of envelope `bytes`: the last one's when they are the same bytes. */
function envelopeText(bytes: Buffer): string {
  if (lastEnvelope?.bytes.equals(bytes)) return lastEnvelope.text;
  const text = bytes.toString();
  // A copy: `bytes` is a view of the reply's buffer, which it would keep alive.
  if (bytes.length <= MAX_KEPT_ENVELOPE) lastEnvelope = { bytes: Buffer.from(bytes), text };
  return text;
}

/**
 * Decodes one entry's flat field list (Buffers, as read with the *Buffer
 * commands). Any client can XADD anything to a stream: an entry whose
 * envelope carrot cannot read comes back `unreadable` (with its body), for
 * core to reject and report; this never throws for what an entry holds.
 */
export function decodeEntry(id: string, fields: Buffer[]): StoredEntry {
  let body: Buffer = NO_BODY;
  let envelope: string | undefined;
  let expiresAt: number | undefined;
  let redelivered = false;
  let earlierDeliveries = 0;
  let deadReason: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    // Names compared as bytes: a string made of each name cost about 0.2 µs per entry.
    const letter = name.length === 1 ? name[0] : undefined;
    if (letter === LETTER_B) body = value;
    else if (letter === LETTER_M) envelope = envelopeText(value);
    else if (letter === LETTER_X) expiresAt = Number(value.toString());
    else if (letter === LETTER_R) {
      redelivered = true;
      earlierDeliveries = deliveriesBefore(value.toString());
    } else if (name.equals(WHY)) deadReason = value.toString();
  }
  const expiry = Number.isFinite(expiresAt) ? expiresAt : undefined;
  // An entry with a body alone (another client's XADD): its body is all there is.
  const e = envelope === undefined ? undefined : envelopes.read(envelope);
  // One object per entry: this is every consumed message's path.
  if (e === undefined || e instanceof Error) {
    const message = { body, headers: newHeaders(), properties: {}, unreadable: e };
    return {
      id,
      exchange: "",
      routingKey: "",
      expiresAt: expiry,
      redelivered,
      earlierDeliveries,
      deadReason,
      message,
    };
  }
  return {
    id,
    exchange: e.exchange,
    routingKey: e.routingKey,
    expiresAt: expiry,
    redelivered,
    earlierDeliveries,
    deadReason,
    message: {
      body,
      contentType: e.contentType,
      contentEncoding: e.contentEncoding,
      headers: e.headers,
      properties: e.properties,
    },
  };
}

/** An `r` field's count; entries re-added before counts were kept hold "1", as does any other writer's non-count. */
function deliveriesBefore(text: string): number {
  const count = Number(text);
  return Number.isSafeInteger(count) && count >= 0 ? count : 1;
}
