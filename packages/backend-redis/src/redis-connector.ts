import { InvalidOptionsError, withTimeout } from "@carrot/core/backend";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { reconnectOnNodeLoss } from "./cluster-node-loss.js";
import type { ClusterTarget } from "./cluster-url.js";
import { connectError, redisSecrets } from "./connection-errors.js";

/** One Redis or a Redis Cluster: the commands this backend sends are the same on both. */
export type RedisClient = Redis | Cluster;

/**
 * Opens one ioredis connection (a `Cluster` client when `cluster` is given)
 * and settles within the connect timeout with a typed error. During the
 * first connect ioredis must not retry (a refused port or a wrong password
 * would otherwise be retried forever); once ready, the configured retry
 * strategy takes over for later drops.
 */
export async function openRedis(
  options: RedisOptions,
  display: string,
  connectTimeout: number,
  cluster?: ClusterTarget,
): Promise<RedisClient> {
  if (cluster) return openCluster(options, display, connectTimeout, cluster);
  const retryStrategy = options.retryStrategy;
  const redis = new Redis({ ...options, lazyConnect: true, retryStrategy: () => null });
  await connected(redis, options, display, connectTimeout, async () => {
    await redis.ping();
    await refuseClusterNode(redis, display);
  });
  redis.options.retryStrategy = retryStrategy;
  return redis;
}

/**
 * A `Cluster` client over the seed nodes. Each node's connection has the
 * one-Redis options (credentials, TLS, timeouts). A lost master connection
 * makes the whole client reconnect, by the configured strategy, reporting
 * it as one Redis does (see `reconnectOnNodeLoss`); the slot table then
 * leads to the nodes serving each slot (a promoted replica after a failover).
 */
async function openCluster(
  options: RedisOptions,
  display: string,
  connectTimeout: number,
  target: ClusterTarget,
): Promise<Cluster> {
  const { retryStrategy, host: _host, port: _port, lazyConnect: _lazy, ...nodeOptions } = options;
  const clusterRetry = retryStrategy as ((times: number) => number | null) | undefined;
  const cluster = new Cluster(target.nodes, {
    // A failover takes the cluster node-timeout and an election: commands wait for it.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    maxRedirections: 32,
    ...target.options,
    redisOptions: { ...nodeOptions, ...target.options.redisOptions },
    lazyConnect: true,
    clusterRetryStrategy: () => null,
  });
  reconnectOnNodeLoss(cluster, { resend: options.autoResendUnfulfilledCommands !== false });
  await connected(cluster, options, display, connectTimeout, () => cluster.ping());
  cluster.options.clusterRetryStrategy = (times) => clusterRetry?.(times) ?? null;
  return cluster;
}

/** Connects `client`, runs `check`; fails with a typed error within the timeout. */
async function connected(
  client: RedisClient,
  options: RedisOptions,
  display: string,
  connectTimeout: number,
  check: () => Promise<unknown>,
): Promise<void> {
  let lastError: unknown;
  const onError = (error: unknown) => {
    lastError = error;
  };
  client.on("error", onError);
  client.on("node error", onError);
  try {
    await withTimeout(
      client.connect().then(check),
      connectTimeout,
      () => new Error(`connect ETIMEDOUT after ${connectTimeout} ms`),
    );
  } catch (error) {
    client.disconnect();
    if (error instanceof InvalidOptionsError) throw error;
    throw connectError(display, preferred(lastError, error), redisSecrets(options), connectTimeout);
  } finally {
    client.off("error", onError);
    client.off("node error", onError);
  }
}

/**
 * A `redis://` URL naming a node of a Redis Cluster would work until the
 * first key of another node's slots, then fail with a raw `MOVED`: refused
 * at connect instead. A server that does not let this user run `INFO` is
 * taken as it is.
 */
async function refuseClusterNode(redis: Redis, display: string): Promise<void> {
  const info = await redis.info("cluster").catch(() => "");
  if (/^cluster_enabled:1/m.test(info)) {
    throw new InvalidOptionsError(
      `redis ${display} is a node of a Redis Cluster: connect with redis+cluster://${display.replace(/^rediss?:\/\/|\/\d+$/g, "")} (add more nodes after commas), so that each key goes to the node that serves its slot`,
    );
  }
}

/** ioredis rejects connect() with a generic "Connection is closed."; the event said why. */
function preferred(eventError: unknown, thrown: unknown): unknown {
  if (thrown instanceof Error && /ETIMEDOUT/.test(thrown.message)) return thrown;
  return eventError ?? thrown;
}
