import { clientError } from "../client-errors.js";
import { type CarrotError, ConnectionError, ConnectTimeoutError } from "../errors.js";

/**
 * Every client library reports a failed socket its own way (amqplib and
 * ioredis pass Node's error on, the AWS SDK wraps it, Node 20's happy
 * eyeballs folds the attempts into an AggregateError), and every backend
 * must still answer "wrong host, wrong port, firewall or certificate?" the
 * same way. This reads the Node code wherever the client put it and builds
 * the typed error that says what to check; what a client reports beyond the
 * socket (a refused login, a missing queue) stays the backend's to map.
 */

/** Node's codes for a connection that could not be made or did not last. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPROTO",
]);

/** Node's codes for a TLS peer whose certificate was refused. */
const CERTIFICATE_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** How deep into causes and aggregated errors the code is looked for. */
const MAX_DEPTH = 4;

/**
 * The Node code of a network or certificate failure, looked for on the
 * error, its cause chain and the errors it aggregates; undefined when the
 * error is not one.
 */
export function networkErrorCode(error: unknown, depth = 0): string | undefined {
  if (!(error instanceof Error) || depth > MAX_DEPTH) return undefined;
  const { code } = error as { code?: unknown };
  if (typeof code === "string" && (NETWORK_CODES.has(code) || CERTIFICATE_CODES.has(code)))
    return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = networkErrorCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return networkErrorCode(error.cause, depth + 1);
}

/** What `connectFailure` needs to name the broker and the limit in its message. */
export interface ConnectFailureContext {
  /** The broker, redacted, as errors name it ("RabbitMQ at 127.0.0.1:5672"). */
  where: string;
  /** The connect timeout in ms, quoted when the attempt timed out. */
  timeout: number;
  /** Texts to hide from the message and the cause (see `clientError`). */
  secrets?: readonly (string | undefined)[];
}

/**
 * A connection attempt that failed on the network, as the typed error that
 * says what to check; undefined when `error` is not a network failure, so
 * that the backend maps it by its protocol.
 */
export function connectFailure(
  error: unknown,
  { where, timeout, secrets }: ConnectFailureContext,
): CarrotError | undefined {
  const code = networkErrorCode(error) ?? (timedOut(error) ? "ETIMEDOUT" : undefined);
  if (code === undefined) return undefined;
  const options = { secrets, clientCode: code };
  if (CERTIFICATE_CODES.has(code))
    return clientError(
      ConnectionError,
      `the TLS certificate of ${where} was refused (${code}); give the CA that signed it (tls ca option), or check the host name it was issued for`,
      error,
      options,
    );
  switch (code) {
    case "ETIMEDOUT":
      return clientError(
        ConnectTimeoutError,
        `no connection to ${where} within ${timeout} ms; is the broker up and the address right?`,
        error,
        options,
      );
    case "ECONNREFUSED":
      return clientError(
        ConnectionError,
        `${where} refused the TCP connection (ECONNREFUSED); is the broker running and listening on that port?`,
        error,
        options,
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return clientError(
        ConnectionError,
        `the host of ${where} cannot be resolved (${code}); check the host name`,
        error,
        options,
      );
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return clientError(
        ConnectionError,
        `${where} cannot be reached (${code}); check the address and the network`,
        error,
        options,
      );
    case "EPROTO":
      return clientError(
        ConnectionError,
        `the TLS handshake with ${where} failed (EPROTO); is that port a TLS port, and does the broker speak TLS there?`,
        error,
        options,
      );
    default:
      return clientError(
        ConnectionError,
        `the connection to ${where} failed (${code}) while connecting`,
        error,
        options,
      );
  }
}

/** Clients that time a connect out themselves say so in words (ioredis, amqplib) or by name (the AWS SDK). */
function timedOut(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "TimeoutError" || /ETIMEDOUT|\btimed? ?out\b/i.test(error.message);
}
