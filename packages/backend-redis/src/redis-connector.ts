import { withTimeout } from "@carrot/core/backend";
import { Redis, type RedisOptions } from "ioredis";
import { connectError, redisSecrets } from "./connection-errors.js";

/**
 * Opens one ioredis connection and settles within the connect timeout with a
 * typed error. During the first connect ioredis must not retry (a refused
 * port or a wrong password would otherwise be retried forever); once ready,
 * the configured retry strategy takes over for later drops.
 */
export async function openRedis(
  options: RedisOptions,
  display: string,
  connectTimeout: number,
): Promise<Redis> {
  const retryStrategy = options.retryStrategy;
  const redis = new Redis({ ...options, lazyConnect: true, retryStrategy: () => null });
  let lastError: unknown;
  const onError = (error: unknown) => {
    lastError = error;
  };
  redis.on("error", onError);
  try {
    await withTimeout(
      redis.connect().then(() => redis.ping()),
      connectTimeout,
      () => new Error(`connect ETIMEDOUT after ${connectTimeout} ms`),
    );
  } catch (error) {
    redis.disconnect();
    throw connectError(display, preferred(lastError, error), redisSecrets(options), connectTimeout);
  } finally {
    redis.off("error", onError);
  }
  redis.options.retryStrategy = retryStrategy;
  return redis;
}

/** ioredis rejects connect() with a generic "Connection is closed."; the event said why. */
function preferred(eventError: unknown, thrown: unknown): unknown {
  if (thrown instanceof Error && /ETIMEDOUT/.test(thrown.message)) return thrown;
  return eventError ?? thrown;
}
