import type { Headers, HeaderValue } from "@carrot/core/backend";

/**
 * carrot header values to and from AMQP field tables as amqplib encodes
 * them. Dates travel as AMQP timestamps (whole seconds, as every AMQP client
 * reads them) and bytes as byte arrays; the rest maps one to one, but for
 * NaN and the infinities, which RabbitMQ cannot take (refused here).
 */
export function toTable(headers: Headers): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value !== undefined) table[key] = toField(value);
  }
  return table;
}

function toField(value: HeaderValue): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) {
    // RabbitMQ closes the whole connection on a NaN or infinite double.
    throw new RangeError(`AMQP headers cannot carry ${value}: RabbitMQ takes finite numbers only`);
  }
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return { "!": "timestamp", value: Math.floor(value.getTime() / 1000) };
  if (value instanceof Uint8Array)
    return Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(toField);
  return toTable(value as Headers);
}

export function fromTable(table: Record<string, unknown> | undefined): Headers {
  const headers: Headers = {};
  if (!table) return headers;
  for (const key in table) {
    const value = table[key];
    if (value !== undefined) headers[key] = fromField(value);
  }
  return headers;
}

function fromField(value: unknown): HeaderValue {
  if (value === null || typeof value !== "object") return value as HeaderValue;
  if (value instanceof Uint8Array)
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(fromField);
  const typed = value as { "!"?: string; value?: unknown };
  if (typed["!"] === "timestamp") return new Date(Number(typed.value) * 1000);
  if (typed["!"] === "decimal") {
    const { places, digits } = typed.value as { places: number; digits: number };
    return digits / 10 ** places;
  }
  return fromTable(value as Record<string, unknown>);
}
