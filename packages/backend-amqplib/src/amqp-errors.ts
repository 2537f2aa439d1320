import {
  AuthenticationError,
  CarrotError,
  ConnectionError,
  ConnectionLostError,
  clientError,
  connectFailure,
  DeclarationConflictError,
  InvalidOptionsError,
  NotFoundError,
  ResourceLockedError,
  secretOf,
} from "@carrot/core/backend";
import type { Endpoint } from "./amqp-endpoints.js";

/** AMQP reply codes that RabbitMQ closes channels and connections with. */
export const REPLY = {
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  NOT_ALLOWED: 530,
} as const;

interface AmqpError extends Error {
  code?: number | string;
}

/** The broker's own words ("NOT_FOUND - no queue 'x' in vhost '/'"), without amqplib's wrapping. */
export function brokerText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /with message "(.*)"/.exec(message)?.[1] ?? message;
}

/**
 * A failed connection attempt as a carrot error. amqplib reports a refused
 * login as a 403 handshake failure and an unknown vhost as a 530 close; the
 * socket errors keep their Node codes. The endpoint's display never holds a
 * password; a user name that comes without one is a token, and is hidden too.
 */
export function connectError(error: unknown, endpoint: Endpoint, timeout: number): CarrotError {
  if (error instanceof ConnectionError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const where = `RabbitMQ at ${endpoint.host}`;
  const secrets = [secretOf(endpoint.username, endpoint.connect.password)];
  if (/ACCESS[-_]REFUSED|\b403\b/.test(message)) {
    return clientError(
      AuthenticationError,
      `${where} refused the login of user '${endpoint.username}' (ACCESS_REFUSED); check the user name and password`,
      error,
      { secrets, clientCode: "ACCESS_REFUSED" },
    );
  }
  // RabbitMQ answers connection.open with a 530 close when the vhost does not
  // exist or the user may not use it; amqplib reports only the unexpected close.
  if (/NOT[-_]ALLOWED|\b530\b|Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return clientError(
      AuthenticationError,
      `${where} refused vhost '${decodeURIComponent(endpoint.connect.vhost ?? "/")}' to user '${endpoint.username}'; the vhost does not exist or the user has no access to it`,
      error,
      { secrets, clientCode: "NOT_ALLOWED" },
    );
  }
  const failure = connectFailure(error, { where, timeout, secrets });
  if (failure) return failure;
  return clientError(ConnectionError, `could not connect to ${where}: ${message}`, error, {
    secrets,
  });
}

/**
 * A failed channel operation as a carrot error. RabbitMQ closes the channel
 * with the reason; each code maps to the class a caller can act on.
 */
export function channelError(error: unknown, what: string): CarrotError {
  if (error instanceof CarrotError) return error;
  // amqplib refuses what it cannot encode (a table over 64 KiB, a bad argument type) before sending.
  if (error instanceof TypeError || error instanceof RangeError) {
    return clientError(InvalidOptionsError, `${what} failed: ${error.message}`, error);
  }
  const code = (error as AmqpError).code;
  const text = brokerText(error);
  switch (code) {
    case REPLY.PRECONDITION_FAILED:
      return clientError(
        DeclarationConflictError,
        `${what} failed: ${text}; delete it first or declare it with the settings it has`,
        error,
      );
    case REPLY.NOT_FOUND:
      // A classic queue lives on one node of a cluster; while that node is down it cannot be used.
      if (/home node .* is down or inaccessible/.test(text)) {
        return clientError(
          NotFoundError,
          `${what} failed: ${text}; a classic queue lives on one node and is gone while its node is down: declare it with queueType "quorum" to keep it through the loss of a node`,
          error,
        );
      }
      return clientError(NotFoundError, `${what} failed: ${text}; declare it first`, error);
    case REPLY.RESOURCE_LOCKED:
      return clientError(
        ResourceLockedError,
        `${what} failed: ${text}; another connection holds it exclusively`,
        error,
      );
    case REPLY.ACCESS_REFUSED:
      if (/exclusive/i.test(text))
        return clientError(ResourceLockedError, `${what} failed: ${text}`, error);
      if (/reserved prefix|'amq\./i.test(text))
        return clientError(
          InvalidOptionsError,
          `${what} failed: ${text}; names starting with 'amq.' are RabbitMQ's`,
          error,
        );
      return clientError(
        AuthenticationError,
        `${what} failed: ${text}; the user lacks the permission`,
        error,
      );
    default:
      // Any other reply code is the broker refusing the request itself (530 NOT_ALLOWED, 540 NOT_IMPLEMENTED...).
      if (typeof code === "number")
        return clientError(InvalidOptionsError, `${what} failed: ${text}`, error);
      return clientError(
        ConnectionLostError,
        `${what} did not complete: the connection to RabbitMQ was lost (${text})`,
        error,
      );
  }
}
