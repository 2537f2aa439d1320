import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import amqplib, { type ConfirmChannel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL } from "./support/broker.js";

const broker = new URL(AMQP_URL);

// Another AMQP client, publishing straight to the queue with amqplib.
let raw: Promise<{ close(): Promise<void>; channel: ConfirmChannel }> | undefined;
function rawChannel() {
  raw ??= amqplib.connect(AMQP_URL).then(async (connection) => ({
    close: () => connection.close(),
    channel: await connection.createConfirmChannel(),
  }));
  return raw;
}
afterAll(async () => (await raw)?.close());

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

describeBackend("amqplib", {
  connect: () => new Connection(AMQP_URL),
  runner: { describe, it, expect, beforeAll, afterAll },
  hostile: {
    async write(queue, { body, contentType, contentEncoding, headers }) {
      const { channel } = await rawChannel();
      channel.sendToQueue(queue, Buffer.from(body), {
        contentType,
        contentEncoding,
        headers: headers && literalTable(headers),
      });
      await channel.waitForConfirms();
    },
  },
  faults: {
    target: { host: broker.hostname, port: Number(broker.port || 5672) },
    connectThrough: (port, overrides) => {
      const through = new URL(AMQP_URL);
      through.hostname = "127.0.0.1";
      through.port = String(port);
      return new Connection({
        url: through.href,
        reconnect: { initialDelay: 50, maxDelay: 500 },
        // Two missed heartbeats tell a connection gone silent: a case silences some.
        heartbeat: 1,
        ...overrides,
      });
    },
  },
});
