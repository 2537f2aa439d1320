import type { Headers, HeaderValue } from "@carrot/core/backend";

/**
 * Headers travel as JSON inside one SQS message attribute. JSON lacks dates,
 * bytes and a way to tell a user's object from a tagged value, so those three
 * are wrapped: {"$d": ISO date}, {"$b": base64 bytes}, {"$o": object}.
 * Everything else (strings, finite numbers, booleans, null, arrays) is itself.
 */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export function headersToJson(headers: Headers): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key] = toJson(value);
  }
  return out;
}

export function headersFromJson(json: Record<string, Json>): Headers {
  const out: Headers = {};
  for (const [key, value] of Object.entries(json)) out[key] = fromJson(value);
  return out;
}

function toJson(value: HeaderValue): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
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
  const object: Record<string, HeaderValue> = {};
  for (const [key, inner] of Object.entries((value.$o ?? {}) as Record<string, Json>))
    object[key] = fromJson(inner);
  return object;
}
