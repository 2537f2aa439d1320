import type { Headers, HeaderValue, MessageProperties } from "./contract.js";

/**
 * Headers and properties as JSON, for backends that carry them in a JSON
 * envelope (Redis, SQS). JSON lacks dates, bytes and non-finite numbers, and
 * a tag must not be mistaken for a user's own object, so those four are
 * wrapped: {"$d": ISO date}, {"$b": base64 bytes}, {"$n": "NaN" | "Infinity"
 * | "-Infinity"}, {"$o": object}. Strings, finite numbers, booleans, null and
 * arrays are themselves. A record of plain values (the usual headers) goes
 * through as it is, in both directions, without a copy.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type HeadersJson = Record<string, Json>;

export function headersToJson(headers: Headers): HeadersJson {
  if (isPlain(headers)) return headers as HeadersJson;
  const out: HeadersJson = {};
  for (const key in headers) {
    const value = headers[key];
    if (value !== undefined) out[key] = toJson(value);
  }
  return out;
}

export function headersFromJson(json: HeadersJson): Headers {
  if (isPlain(json)) return json as Headers;
  const out: Headers = {};
  for (const key in json) out[key] = fromJson(json[key] as Json);
  return out;
}

/** Properties with the timestamp as milliseconds since the epoch. */
export type PropertiesJson = Omit<MessageProperties, "timestamp"> & { timestamp?: number };

export function propertiesToJson(properties: MessageProperties): PropertiesJson {
  const { timestamp } = properties;
  return timestamp === undefined
    ? (properties as PropertiesJson)
    : { ...properties, timestamp: timestamp.getTime() };
}

export function propertiesFromJson(json: PropertiesJson): MessageProperties {
  const { timestamp } = json;
  return timestamp === undefined
    ? (json as MessageProperties)
    : { ...json, timestamp: new Date(timestamp) };
}

/** Only strings, finite numbers, booleans and null: nothing to wrap. */
function isPlain(record: Readonly<Record<string, unknown>>): boolean {
  for (const key in record) {
    const value = record[key];
    if (value !== null && typeof value === "object") return false;
    if (typeof value === "number" && !Number.isFinite(value)) return false;
  }
  return true;
}

function toJson(value: HeaderValue): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : { $n: String(value) };
  if (value instanceof Date) return { $d: value.toISOString() };
  if (value instanceof Uint8Array)
    return { $b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  if (Array.isArray(value)) return value.map(toJson);
  const object: Record<string, Json> = {};
  for (const [key, inner] of Object.entries(value as Record<string, HeaderValue>)) {
    if (inner !== undefined) object[key] = toJson(inner);
  }
  return { $o: object };
}

function fromJson(value: Json): HeaderValue {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(fromJson);
  if (typeof value.$d === "string") return new Date(value.$d);
  if (typeof value.$b === "string") return new Uint8Array(Buffer.from(value.$b, "base64"));
  if (typeof value.$n === "string") return Number(value.$n);
  const object: Record<string, HeaderValue> = {};
  for (const [key, inner] of Object.entries((value.$o ?? {}) as Record<string, Json>))
    object[key] = fromJson(inner);
  return object;
}
