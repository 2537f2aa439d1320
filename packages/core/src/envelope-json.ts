import type { Headers, HeaderValue, MessageProperties } from "./contract.js";
import { DecodeError } from "./errors.js";

/**
 * Headers and properties as JSON, for backends that carry them in a JSON
 * envelope (Redis, SQS). JSON lacks dates, bytes and non-finite numbers, and
 * a tag must not be mistaken for a user's own object, so those four are
 * wrapped: {"$d": ISO date}, {"$b": base64 bytes}, {"$n": "NaN" | "Infinity"
 * | "-Infinity"}, {"$o": object}. Strings, finite numbers, booleans, null and
 * arrays are themselves.
 *
 * Reading is total: an envelope is what any client could write, so every
 * input gives headers or a `DecodeError` that says what is wrong, never
 * another exception, a prototype set from the data, or an Invalid Date.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
/** Headers as `JSON.stringify` writes them: every value a {@link Json}, tagged where JSON lacks the type. */
export type HeadersJson = Record<string, Json>;

/** Deeper headers than this are refused: reading them is recursive, and no real header nests so. */
export const MAX_HEADER_DEPTH = 32;

/** An empty headers object without a prototype: `__proto__` in it is a key like any other. */
export function newHeaders(): Headers {
  return Object.create(null) as Headers;
}

/**
 * Headers for a JSON envelope. Headers of strings, finite numbers, booleans
 * and null are returned as they are (no copy: the common case stays cheap);
 * others are copied with dates, bytes, non-finite numbers and objects tagged.
 */
export function headersToJson(headers: Headers): HeadersJson {
  if (isPlain(headers)) return headers as HeadersJson;
  const out: HeadersJson = {};
  for (const key in headers) {
    const value = headers[key];
    if (value !== undefined) out[key] = toJson(value);
  }
  return out;
}

/** Headers from an envelope's JSON (parsed), whatever it holds; `undefined` is no headers. */
export function headersFromJson(json: unknown): Headers {
  if (json === undefined) return newHeaders();
  if (!isRecord(json)) throw new DecodeError(`the headers are ${describe(json)}, not an object`);
  return recordFromJson(json, "", 0);
}

/** Properties with the timestamp as milliseconds since the epoch. */
export type PropertiesJson = Omit<MessageProperties, "timestamp"> & {
  /** Milliseconds since the epoch (`Date.getTime()`). */
  timestamp?: number;
};

/** Properties for a JSON envelope: the same object unless it has a timestamp, which becomes milliseconds. */
export function propertiesToJson(properties: MessageProperties): PropertiesJson {
  const { timestamp } = properties;
  return timestamp === undefined
    ? (properties as PropertiesJson)
    : { ...properties, timestamp: timestamp.getTime() };
}

const STRING_PROPERTIES = [
  "messageId",
  "correlationId",
  "replyTo",
  "type",
  "appId",
  "userId",
] as const;

/**
 * Properties from an envelope's JSON, whatever it holds; `undefined` is
 * none. Only the known properties are read (a newer writer's extra ones are
 * left out); each must have its type and range.
 */
export function propertiesFromJson(json: unknown): MessageProperties {
  const properties: MessageProperties = {};
  if (json === undefined) return properties;
  if (!isRecord(json)) throw new DecodeError(`the properties are ${describe(json)}, not an object`);
  for (const name of STRING_PROPERTIES) {
    const value = json[name];
    if (value === undefined) continue;
    if (typeof value !== "string") throw badProperty(name, value, "a string");
    properties[name] = value;
  }
  const { priority, expiration, timestamp, deliveryMode } = json;
  if (priority !== undefined) {
    if (!(Number.isInteger(priority) && (priority as number) >= 0 && (priority as number) <= 255))
      throw badProperty("priority", priority, "a whole number from 0 to 255");
    properties.priority = priority as number;
  }
  if (expiration !== undefined) {
    if (!(typeof expiration === "number" && Number.isFinite(expiration) && expiration >= 0))
      throw badProperty("expiration", expiration, "milliseconds >= 0");
    properties.expiration = expiration;
  }
  if (timestamp !== undefined) {
    const date = typeof timestamp === "number" ? new Date(timestamp) : undefined;
    if (!date || Number.isNaN(date.getTime()))
      throw badProperty("timestamp", timestamp, "milliseconds since the epoch");
    properties.timestamp = date;
  }
  if (deliveryMode !== undefined) {
    if (deliveryMode !== 1 && deliveryMode !== 2)
      throw badProperty("deliveryMode", deliveryMode, "1 or 2");
    properties.deliveryMode = deliveryMode;
  }
  return properties;
}

/** An envelope field that holds a string or nothing: the text, or a `DecodeError` naming the field. */
export function envelopeString(value: unknown, field: string): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw new DecodeError(`the envelope's ${field} is ${describe(value)}, not a string`);
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
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

/** Own keys only, into an object without a prototype: the data never reaches a setter. */
function recordFromJson(json: Record<string, unknown>, path: string, depth: number): Headers {
  const out = newHeaders();
  for (const key of Object.keys(json)) {
    out[key] = fromJson(json[key], path === "" ? key : `${path}.${key}`, depth);
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
};

function fromJson(value: unknown, path: string, depth: number): HeaderValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value !== "object") throw badHeader(path, `${describe(value)}`);
  if (depth >= MAX_HEADER_DEPTH)
    throw badHeader(path, `nested deeper than ${MAX_HEADER_DEPTH} levels`);
  if (Array.isArray(value))
    return value.map((item, i) => fromJson(item, `${path}[${i}]`, depth + 1));
  const record = value as Record<string, unknown>;
  const tag = tagOf(record);
  if (tag === undefined) return recordFromJson(record, path, depth + 1); // a foreign writer's object
  const inner = record[tag];
  switch (tag) {
    case "$d": {
      const date = typeof inner === "string" ? new Date(inner) : undefined;
      if (!date || Number.isNaN(date.getTime()))
        throw badHeader(path, `tagged as a date, but ${describe(inner)} is no date`);
      return date;
    }
    case "$b":
      if (typeof inner !== "string" || !BASE64.test(inner))
        throw badHeader(path, `tagged as bytes, but ${describe(inner)} is no base64`);
      return new Uint8Array(Buffer.from(inner, "base64"));
    case "$n": {
      const number = typeof inner === "string" ? NON_FINITE[inner] : undefined;
      if (number === undefined)
        throw badHeader(path, `tagged as a number, but ${describe(inner)} is not NaN or ±Infinity`);
      return number;
    }
    default:
      if (!isRecord(inner))
        throw badHeader(path, `tagged as an object, but ${describe(inner)} is none`);
      return recordFromJson(inner, path, depth + 1);
  }
}

const TAGS = new Set(["$d", "$b", "$n", "$o"]);

/** The tag of a wrapped value: an object whose one key is a tag. */
function tagOf(record: Record<string, unknown>): string | undefined {
  let only: string | undefined;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    if (only !== undefined) return undefined;
    only = key;
  }
  return only !== undefined && TAGS.has(only) ? only : undefined;
}

function badHeader(path: string, what: string): DecodeError {
  return new DecodeError(`header '${path}' cannot be read: ${what}`);
}

function badProperty(name: string, value: unknown, expected: string): DecodeError {
  return new DecodeError(`the property ${name} is ${describe(value)}; it must be ${expected}`);
}

/** A short, safe description of a value from a message, for an error message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value).slice(0, 40)}`;
}
