import { randomUUID } from "node:crypto";
import { type Connection, Consumer, Publisher } from "@carrot/core";
import { Redis } from "ioredis";
import { expect } from "vitest";

/**
 * The Redis the tests run against: CARROT_REDIS_URL, which the global setup
 * (broker-setup.ts) sets to the Redis it found or started. The processes a
 * test starts inherit it.
 */
export const REDIS_URL = requiredUrl();

function requiredUrl(): string {
  const url = process.env.CARROT_REDIS_URL;
  if (!url)
    throw new Error(
      "CARROT_REDIS_URL is not set: run these tests through vitest, whose global setup finds or starts Redis",
    );
  return url;
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `carrot-test-${randomUUID().slice(0, 8)}`;
}

/** A name no other test uses. */
export function unique(name: string): string {
  return `${name}.${randomUUID().slice(0, 8)}`;
}

/** The test URL with a key prefix and our settings as query parameters. */
export function redisUrl(prefix: string, settings: Record<string, string | number> = {}): string {
  const url = new URL(REDIS_URL);
  url.searchParams.set("prefix", prefix);
  for (const [name, value] of Object.entries(settings)) url.searchParams.set(name, String(value));
  return url.href;
}

/** A plain ioredis client, for inspection and cleanup. */
export function rawRedis(): Redis {
  return new Redis(REDIS_URL);
}

/** Deletes every key written under `prefix`. */
export async function removeKeys(prefix: string): Promise<void> {
  const redis = rawRedis();
  try {
    for (const pattern of [`{${prefix}}*`, `{${prefix}:*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}

/** Sends `payload` to `queue` (declared here) and fetches it back, acked: then the queue is empty. */
export async function expectRoundTrip(
  conn: Connection,
  queue: string,
  payload: object,
): Promise<void> {
  const consumer = new Consumer(conn, { queue });
  await consumer.declare();
  await new Publisher(conn, { routingKey: queue }).send(payload);
  const message = await consumer.fetch();
  expect(message?.payload).toEqual(payload);
  await message?.ack();
  expect(await consumer.fetch()).toBeNull();
}

// The suite's own waiting helpers: deadlines that fail the test, never sleeps.
export { deferred, withTimeout as within } from "@carrot/conformance";
