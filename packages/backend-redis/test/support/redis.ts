import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** The Redis the tests run against (`CARROT_REDIS_URL`, default the local one). */
export const REDIS_URL = process.env.CARROT_REDIS_URL ?? "redis://127.0.0.1:6379";

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

// The suite's own waiting helpers: deadlines that fail the test, never sleeps.
export { deferred, withTimeout as within } from "@carrot/conformance";
