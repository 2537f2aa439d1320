import { randomUUID } from "node:crypto";
import { type ChannelModel, connect } from "amqplib";

/** Where a RabbitMQ installed with its defaults listens. */
const DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672";

/**
 * The RabbitMQ the tests run against: CARROT_AMQP_URL, which the global setup
 * (broker-setup.ts) sets to the broker it found or started. The processes a
 * test starts inherit it.
 */
export const AMQP_URL = requiredUrl();

/** Whether that is the machine's own RabbitMQ on its default port, which rabbitmqctl manages. */
export const ON_DEFAULT_BROKER = AMQP_URL === DEFAULT_AMQP_URL;

function requiredUrl(): string {
  const url = process.env.CARROT_AMQP_URL;
  if (!url)
    throw new Error(
      "CARROT_AMQP_URL is not set: run these tests through vitest, whose global setup finds or starts RabbitMQ",
    );
  return url;
}

/** A name no other test uses. */
export function unique(prefix: string): string {
  return `carrot-test.${prefix}.${randomUUID().slice(0, 8)}`;
}

/** A raw amqplib connection: the "other AMQP client" of the interop tests, and for cleanup. */
export function rawConnection(): Promise<ChannelModel> {
  return connect(AMQP_URL);
}

/** Resolves with the first value `check` returns that is not undefined, or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// The suite's own waiting helpers: deadlines that fail the test, never sleeps.
export { deferred, withTimeout as within } from "@carrot/conformance";
