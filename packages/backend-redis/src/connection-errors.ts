import {
  AuthenticationError,
  CarrotError,
  ConnectionError,
  ConnectionLostError,
  clientError,
  connectFailure,
  InvalidOptionsError,
  secretOf,
} from "@carrot/core/backend";
import type { RedisOptions } from "ioredis";

const AUTH_FAILURE = /WRONGPASS|NOAUTH|NOPERM|invalid (username-)?password/i;

/** The credentials among ioredis options: hidden in every error built from ioredis's. */
export function redisSecrets(options: RedisOptions): (string | undefined)[] {
  return [secretOf(options.username, options.password), options.sentinelPassword];
}

/**
 * A failed connect as a carrot error. `display` is our own redacted URL;
 * ioredis's error is kept only as a sanitized copy (its ReplyError holds
 * the `HELLO ... AUTH user password` that failed).
 */
export function connectError(
  display: string,
  error: unknown,
  secrets: readonly (string | undefined)[],
  timeout: number,
): CarrotError {
  const message = firstLine(error);
  if (AUTH_FAILURE.test(message)) {
    return clientError(
      AuthenticationError,
      `redis ${display} refused the credentials (${message}); check the username and password`,
      error,
      { secrets, clientCode: replyCode(error) },
    );
  }
  return (
    connectFailure(error, { where: `redis ${display}`, timeout, secrets }) ??
    clientError(ConnectionError, `cannot connect to redis ${display}: ${message}`, error, {
      secrets,
      clientCode: replyCode(error),
    })
  );
}

/** The connection dropped, with what ioredis reported last (if anything) as the reason. */
export function lostError(
  display: string,
  error: unknown,
  secrets: readonly (string | undefined)[],
): ConnectionLostError {
  const message = `the connection to redis ${display} was lost`;
  if (error === undefined) return new ConnectionLostError(message);
  return clientError(ConnectionLostError, `${message} (${firstLine(error)})`, error, { secrets });
}

/**
 * A failed command as a carrot error: Redis's refusal (a reply error) as a
 * ConnectionError, or an AuthenticationError when the user lacks the
 * permission, or an InvalidOptionsError when a Redis Cluster node redirects
 * a `redis://` connection; anything else from ioredis is the connection
 * failing, a ConnectionLostError. Carrot's own errors pass as they are.
 */
export function commandError(error: unknown, action: string): CarrotError {
  if (error instanceof CarrotError) return error;
  const message = firstLine(error);
  const options = { clientCode: replyCode(error) };
  if (isReplyError(error)) {
    if (/^(MOVED|ASK|CLUSTERDOWN) /.test(message)) {
      // A cluster node reached as one Redis (when INFO could not tell at connect).
      return clientError(
        InvalidOptionsError,
        `redis refused to ${action} (${message}): the server is a node of a Redis Cluster; connect with redis+cluster://host:port[,host:port...]`,
        error,
        options,
      );
    }
    return AUTH_FAILURE.test(message)
      ? clientError(
          AuthenticationError,
          `redis refused to ${action} (${message}); the user lacks the permission`,
          error,
          options,
        )
      : clientError(ConnectionError, `redis refused to ${action}: ${message}`, error, options);
  }
  return clientError(
    ConnectionLostError,
    `the connection to redis failed while trying to ${action} (${message})`,
    error,
    options,
  );
}

function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === "ReplyError";
}

/** A reply error's code is its first word (`WRONGPASS`, `NOPERM`, `OOM`), as Redis sends it. */
function replyCode(error: unknown): string | undefined {
  if (!isReplyError(error)) return undefined;
  return /^[A-Z][A-Z0-9_]*/.exec((error as Error).message)?.[0];
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
