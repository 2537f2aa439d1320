import { randomUUID } from "node:crypto";
import { type ChannelModel, connect } from "amqplib";

/** The RabbitMQ the tests run against (`CARROT_AMQP_URL`, default the local broker). */
export const AMQP_URL = process.env.CARROT_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

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
