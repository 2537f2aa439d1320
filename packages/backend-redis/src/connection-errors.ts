import { AuthenticationError, ConnectionError, ConnectTimeoutError } from "@carrot/core/backend";

const AUTH_FAILURE = /WRONGPASS|NOAUTH|NOPERM|invalid (username-)?password/i;

/**
 * A failed connect as a carrot error. ioredis's messages name the host and
 * port, never the password; `display` is our own redacted URL.
 */
export function connectError(
  display: string,
  error: unknown,
): ConnectionError | AuthenticationError | ConnectTimeoutError {
  const message = error instanceof Error ? error.message : String(error);
  if (AUTH_FAILURE.test(message)) {
    return new AuthenticationError(
      `redis ${display} refused the credentials (${message.split("\n")[0]}); check the username and password`,
      { cause: error },
    );
  }
  if (/ETIMEDOUT|timed? ?out/i.test(message)) {
    return new ConnectTimeoutError(
      `redis ${display} did not answer within the connect timeout; check the host, port and firewall`,
      { cause: error },
    );
  }
  return new ConnectionError(`cannot connect to redis ${display}: ${message}`, { cause: error });
}
