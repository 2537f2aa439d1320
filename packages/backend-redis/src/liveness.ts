import { Redis } from "ioredis";
import type { RedisClient } from "./redis-connector.js";

/**
 * A Redis connection can die without a word: a NAT or a firewall that
 * forgets it leaves the socket open, and every command on it then waits for
 * good (ioredis has no heartbeat; TCP keepalive, where it is on, takes
 * minutes). These watch for that silence and destroy the socket, so that
 * ioredis reconnects and the usual recovery runs: commands resent, or failed
 * (as outcome unknown, for publishes) where resending is off, and a
 * subscription's orphans returned. Ending the socket would not do: a silent
 * peer never answers the FIN, so it would never close.
 */

/**
 * Kills the connection's socket (when it is up): ioredis sees it close and
 * reconnects. A Cluster client's node sockets all go: ioredis finds the
 * nodes again through the slot table.
 */
function drop(redis: RedisClient): void {
  if (redis.status !== "ready") return;
  if (redis instanceof Redis) redis.stream.destroy();
  else for (const node of redis.nodes("all")) if (node.status === "ready") node.stream.destroy();
}

/**
 * Pings `redis` every `intervalMs` while it is ready. A ping still
 * unanswered two intervals after it was sent means a dead connection, which
 * is dropped. Returns what stops the watch.
 */
export function pingEvery(redis: RedisClient, intervalMs: number): () => void {
  let sentAt: number | undefined;
  const timer = setInterval(() => {
    if (redis.status !== "ready") {
      sentAt = undefined;
      return;
    }
    if (sentAt !== undefined) {
      if (Date.now() - sentAt >= 2 * intervalMs) {
        sentAt = undefined;
        drop(redis);
      }
      return;
    }
    const sent = Date.now();
    sentAt = sent;
    const answered = () => {
      if (sentAt === sent) sentAt = undefined;
    };
    redis.ping().then(answered, answered);
  }, intervalMs).unref();
  return () => clearInterval(timer);
}

/**
 * The reply to `command`, a blocking command on `redis`, a connection that
 * does not resend. It fails when the connection closes first (ioredis would
 * leave it pending for good). With `ms` (its block time and a grace), a
 * reply that has not come by then means a dead connection, which is
 * dropped, failing it too.
 */
export function blockingReply<T>(redis: RedisClient, command: Promise<T>, ms?: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = ms === undefined ? undefined : setTimeout(() => drop(redis), ms);
    const closed = () => {
      done();
      reject(new Error("the Redis connection closed before the reply to a blocking read"));
    };
    const done = () => {
      clearTimeout(timer);
      redis.off("close", closed);
    };
    redis.once("close", closed);
    command.then(
      (reply) => {
        done();
        resolve(reply);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}
