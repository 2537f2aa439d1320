import type { HostileOptions } from "@carrot/conformance";
import amqplib, { type ConfirmChannel } from "amqplib";

/**
 * The conformance suite's hostile writer: another AMQP client (amqplib,
 * without carrot) publishing straight to a queue on the broker at `url`.
 * Its connection opens on first use; `close()` ends it.
 */
export function rawWriter(url: string): HostileOptions & { close(): Promise<void> } {
  let raw: Promise<{ close(): Promise<void>; channel: ConfirmChannel }> | undefined;
  function rawChannel() {
    raw ??= amqplib.connect(url).then(async (connection) => ({
      close: () => connection.close(),
      channel: await connection.createConfirmChannel(),
    }));
    return raw;
  }
  return {
    async write(queue, { body, contentType, contentEncoding, headers }) {
      const { channel } = await rawChannel();
      channel.sendToQueue(queue, Buffer.from(body), {
        contentType,
        contentEncoding,
        headers: headers && literalTable(headers),
      });
      await channel.waitForConfirms();
    },
    async close() {
      await (await raw)?.close();
    },
  };
}

/**
 * A header value as a literal AMQP field value: every object a nested table,
 * even one with a "!" key (amqplib's own marker for typed values), and
 * every number that is not a safe integer a double.
 */
function literal(value: unknown): unknown {
  if (typeof value === "number" && !Number.isSafeInteger(value)) return { "!": "double", value };
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(literal);
  return { "!": "object", value: literalTable(value as Record<string, unknown>) };
}

function literalTable(table: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // defineProperty: a `__proto__` key stays a key of the table as written.
  for (const key of Object.keys(table))
    Object.defineProperty(out, key, { value: literal(table[key]), enumerable: true });
  return out;
}
