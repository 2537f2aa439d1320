import {
  DecodeError,
  type Headers,
  type HeaderValue,
  MAX_HEADER_DEPTH,
  newHeaders,
} from "@carrot/core/backend";

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

/**
 * A message's headers for amqplib's `publish`: undefined when there are
 * none. amqplib makes the table it is given the prototype of a new object
 * on every publish, and V8 turns each object first used as a prototype into
 * a slow one; without a table it uses its own `null` prototype. Both go out
 * as the same empty table.
 */
export function headersTable(headers: Headers): Record<string, unknown> | undefined {
  for (const key in headers) if (headers[key] !== undefined) return toTable(headers);
  return undefined;
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

/**
 * Headers from a table as amqplib decoded it. Any client can write any
 * table, tables that look like amqplib's own `{"!": type}` values included,
 * so reading is total: headers (in objects without a prototype, own keys
 * only) or a `DecodeError` that names the header.
 */
export function fromTable(table: Record<string, unknown> | undefined): Headers {
  return table ? tableOf(table, "", 0) : newHeaders();
}

function tableOf(table: Record<string, unknown>, path: string, depth: number): Headers {
  const headers = newHeaders();
  for (const key of Object.keys(table)) {
    const value = table[key];
    if (value !== undefined) headers[key] = fromField(value, path ? `${path}.${key}` : key, depth);
  }
  return headers;
}

function fromField(value: unknown, path: string, depth: number): HeaderValue {
  if (value === null || typeof value !== "object") return value as HeaderValue;
  if (value instanceof Uint8Array)
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (depth >= MAX_HEADER_DEPTH)
    throw new DecodeError(
      `header '${path}' cannot be read: nested deeper than ${MAX_HEADER_DEPTH} levels`,
    );
  if (Array.isArray(value))
    return value.map((item, i) => fromField(item, `${path}[${i}]`, depth + 1));
  const typed = value as { "!"?: unknown; value?: unknown };
  if (typed["!"] === "timestamp" && Number.isSafeInteger(typed.value))
    return new Date((typed.value as number) * 1000);
  if (typed["!"] === "decimal" && isDecimal(typed.value))
    return typed.value.digits / 10 ** typed.value.places;
  // A table, or a look-alike of amqplib's typed values that another client wrote: a table.
  return tableOf(value as Record<string, unknown>, path, depth + 1);
}

function isDecimal(value: unknown): value is { places: number; digits: number } {
  const decimal = value as { places?: unknown; digits?: unknown } | null;
  return Number.isInteger(decimal?.places) && Number.isInteger(decimal?.digits);
}
