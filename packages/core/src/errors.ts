/**
 * Every error carrot throws. Each class has a fixed `name` and a stable
 * `code` (safe to switch on), a message that names the offending value and
 * what to do next, and keeps the underlying error as `cause` (a client
 * library's as a redacted copy: see `clientCode`).
 * No message ever contains a password: build them from `redactUrl` output.
 */

/**
 * Every carrot error code, with the name of its class. A package that adds a
 * CarrotError subclass adds its codes by augmenting this interface
 * (`declare module "@carrot/core" { interface CarrotErrorCodes { ERR_MINE: "MineError" } }`,
 * as `@carrot/django-style-config` does), so that `CarrotErrorCode` stays a
 * closed union: a `switch` on it is checked, and a misspelt code is a compile error.
 */
export interface CarrotErrorCodes {
  /** {@link CarrotError} */
  ERR_CARROT: "CarrotError";
  /** {@link InvalidOptionsError} */
  ERR_CARROT_INVALID_OPTIONS: "InvalidOptionsError";
  /** {@link UnknownSchemeError} */
  ERR_CARROT_UNKNOWN_SCHEME: "UnknownSchemeError";
  /** {@link BackendNotInstalledError} */
  ERR_CARROT_BACKEND_NOT_INSTALLED: "BackendNotInstalledError";
  /** {@link UnsupportedFeatureError} */
  ERR_CARROT_UNSUPPORTED: "UnsupportedFeatureError";
  /** {@link ConnectionError} */
  ERR_CARROT_CONNECTION: "ConnectionError";
  /** {@link AuthenticationError} */
  ERR_CARROT_AUTH: "AuthenticationError";
  /** {@link ConnectTimeoutError} */
  ERR_CARROT_CONNECT_TIMEOUT: "ConnectTimeoutError";
  /** {@link ConnectionLostError} */
  ERR_CARROT_CONNECTION_LOST: "ConnectionLostError";
  /** {@link ClosedError} */
  ERR_CARROT_CLOSED: "ClosedError";
  /** {@link DeclarationConflictError} */
  ERR_CARROT_DECLARATION_CONFLICT: "DeclarationConflictError";
  /** {@link NotFoundError} */
  ERR_CARROT_NOT_FOUND: "NotFoundError";
  /** {@link ResourceLockedError} */
  ERR_CARROT_RESOURCE_LOCKED: "ResourceLockedError";
  /** {@link PublishNackedError} */
  ERR_CARROT_PUBLISH_NACKED: "PublishNackedError";
  /** {@link UnroutableError} */
  ERR_CARROT_UNROUTABLE: "UnroutableError";
  /** {@link PublishTimeoutError} */
  ERR_CARROT_PUBLISH_TIMEOUT: "PublishTimeoutError";
  /** {@link PublishOutcomeUnknownError} */
  ERR_CARROT_PUBLISH_OUTCOME_UNKNOWN: "PublishOutcomeUnknownError";
  /** {@link RequestTimeoutError} */
  ERR_CARROT_REQUEST_TIMEOUT: "RequestTimeoutError";
  /** {@link MessageTooLargeError} */
  ERR_CARROT_MESSAGE_TOO_LARGE: "MessageTooLargeError";
  /** {@link MessageStateError} */
  ERR_CARROT_MESSAGE_STATE: "MessageStateError";
  /** {@link EncodeError} */
  ERR_CARROT_ENCODE: "EncodeError";
  /** {@link DecodeError} */
  ERR_CARROT_DECODE: "DecodeError";
  /** {@link ContentTypeNotAcceptedError} */
  ERR_CARROT_CONTENT_TYPE_NOT_ACCEPTED: "ContentTypeNotAcceptedError";
  /** {@link UnknownCodecError} */
  ERR_CARROT_UNKNOWN_CODEC: "UnknownCodecError";
  /** {@link SchemaValidationError} */
  ERR_CARROT_SCHEMA_VALIDATION: "SchemaValidationError";
  /** {@link CallbackError} */
  ERR_CARROT_CALLBACK: "CallbackError";
  /** {@link TooLargeToDecodeError} */
  ERR_CARROT_TOO_LARGE_TO_DECODE: "TooLargeToDecodeError";
}

/** The `code` of a CarrotError: one of the keys of {@link CarrotErrorCodes}. */
export type CarrotErrorCode = keyof CarrotErrorCodes;

/** `ErrorOptions`, and the code of the client library's error a carrot error wraps. */
export interface CarrotErrorOptions extends ErrorOptions {
  /** The wrapped client library error's own code, kept as {@link CarrotError.clientCode}. */
  clientCode?: string;
}

/**
 * The base class of every carrot error: `instanceof CarrotError` tells
 * carrot's errors from any other. Each subclass narrows `code` to the codes
 * its instances can have (`ConnectionError` includes its subclasses' codes).
 */
export class CarrotError extends Error {
  /** Stable across releases, unlike the message: the value to switch on. */
  readonly code: CarrotErrorCode = "ERR_CARROT";
  /** The class's name (`ConnectionLostError`...), which Node prints before the message. */
  override name = "CarrotError";
  /**
   * Set when this error wraps one of a client library (ioredis, amqplib, the
   * AWS SDK): that error's own code (`ECONNRESET`, `WRONGPASS`, `403`) or,
   * when it has none, its name (`TimeoutError`). Such an error is never kept
   * as it is, since it may hold credentials (the command that failed, the
   * HTTP exchange): `cause` is a copy of its name, code, message and stack,
   * with secrets hidden (`clientError` in `@carrot/core/backend`).
   */
  declare readonly clientCode?: string;

  /** @param message what went wrong, naming the value at fault and what to do next */
  constructor(message?: string, options?: CarrotErrorOptions) {
    super(message, options);
    if (options?.clientCode !== undefined) this.clientCode = options.clientCode;
  }
}

// Configuration and input

/** An option is missing, of the wrong type, or out of range. */
export class InvalidOptionsError extends CarrotError {
  override readonly code = "ERR_CARROT_INVALID_OPTIONS";
  override name = "InvalidOptionsError";
}

/** A URL scheme no backend serves. */
export class UnknownSchemeError extends CarrotError {
  override readonly code = "ERR_CARROT_UNKNOWN_SCHEME";
  override name = "UnknownSchemeError";
}

/** The backend package for a URL scheme is not installed. */
export class BackendNotInstalledError extends CarrotError {
  override readonly code = "ERR_CARROT_BACKEND_NOT_INSTALLED";
  override name = "BackendNotInstalledError";
}

/** The backend does not have a capability the caller asked for. */
export class UnsupportedFeatureError extends CarrotError {
  override readonly code = "ERR_CARROT_UNSUPPORTED";
  override name = "UnsupportedFeatureError";
}

// Connection

/** The broker could not be reached or the connection failed. Names the host, never the password. */
export class ConnectionError extends CarrotError {
  override readonly code:
    | "ERR_CARROT_CONNECTION"
    | "ERR_CARROT_AUTH"
    | "ERR_CARROT_CONNECT_TIMEOUT"
    | "ERR_CARROT_CONNECTION_LOST" = "ERR_CARROT_CONNECTION";
  override name = "ConnectionError";
}

/** The broker refused the credentials, or the vhost/database they were used on. */
export class AuthenticationError extends ConnectionError {
  override readonly code = "ERR_CARROT_AUTH";
  override name = "AuthenticationError";
}

/** No connection within the connect timeout. */
export class ConnectTimeoutError extends ConnectionError {
  override readonly code = "ERR_CARROT_CONNECT_TIMEOUT";
  override name = "ConnectTimeoutError";
}

/**
 * The connection is gone (or the one that delivered a message). What did not
 * reach the broker did not happen; for a settle the broker redelivers the
 * message, unless it had processed the settle just before the loss (AMQP does
 * not confirm acks), so a duplicate is possible, a loss is not.
 */
export class ConnectionLostError extends ConnectionError {
  override readonly code = "ERR_CARROT_CONNECTION_LOST";
  override name = "ConnectionLostError";
}

/** The Connection, Publisher or Consumer was closed by the application. */
export class ClosedError extends CarrotError {
  override readonly code = "ERR_CARROT_CLOSED";
  override name = "ClosedError";
}

// Topology

/** A redeclare with different settings (type, durability, arguments) than the existing one. */
export class DeclarationConflictError extends CarrotError {
  override readonly code = "ERR_CARROT_DECLARATION_CONFLICT";
  override name = "DeclarationConflictError";
}

/** A queue or exchange that does not exist. */
export class NotFoundError extends CarrotError {
  override readonly code = "ERR_CARROT_NOT_FOUND";
  override name = "NotFoundError";
}

/** An exclusive queue or consumer held by another connection. */
export class ResourceLockedError extends CarrotError {
  override readonly code = "ERR_CARROT_RESOURCE_LOCKED";
  override name = "ResourceLockedError";
}

// Publishing: a send either resolves (the broker has it) or rejects with one of these.

/** The broker refused the message (negative confirm). It is not on the broker. */
export class PublishNackedError extends CarrotError {
  override readonly code = "ERR_CARROT_PUBLISH_NACKED";
  override name = "PublishNackedError";
}

/** A `mandatory` message that no queue was bound to receive. It is not on the broker. */
export class UnroutableError extends CarrotError {
  override readonly code = "ERR_CARROT_UNROUTABLE";
  override name = "UnroutableError";
}

/** No answer from the broker within the send deadline: the message may or may not be there. */
export class PublishTimeoutError extends CarrotError {
  override readonly code = "ERR_CARROT_PUBLISH_TIMEOUT";
  override name = "PublishTimeoutError";
}

/** The connection died before the broker confirmed: the message may or may not be there. */
export class PublishOutcomeUnknownError extends CarrotError {
  override readonly code = "ERR_CARROT_PUBLISH_OUTCOME_UNKNOWN";
  override name = "PublishOutcomeUnknownError";
}

/**
 * No reply to a `publisher.request()` within its `timeout`. The request may
 * have been sent and even answered late: a reply that comes after this is
 * dropped, so a retry may be processed twice.
 */
export class RequestTimeoutError extends CarrotError {
  override readonly code = "ERR_CARROT_REQUEST_TIMEOUT";
  override name = "RequestTimeoutError";
}

/** The message is larger than the backend allows; nothing was sent. */
export class MessageTooLargeError extends CarrotError {
  override readonly code = "ERR_CARROT_MESSAGE_TOO_LARGE";
  override name = "MessageTooLargeError";
}

// Messages and codecs

/** A message was settled twice, or settled when it cannot be (noAck). */
export class MessageStateError extends CarrotError {
  override readonly code = "ERR_CARROT_MESSAGE_STATE";
  override name = "MessageStateError";
}

/** A value could not be encoded by the chosen codec. */
export class EncodeError extends CarrotError {
  override readonly code = "ERR_CARROT_ENCODE";
  override name = "EncodeError";
}

/** A body could not be decompressed or decoded. */
export class DecodeError extends CarrotError {
  override readonly code:
    | "ERR_CARROT_DECODE"
    | "ERR_CARROT_CONTENT_TYPE_NOT_ACCEPTED"
    | "ERR_CARROT_TOO_LARGE_TO_DECODE" = "ERR_CARROT_DECODE";
  override name = "DecodeError";
}

/** The message's content type is not in the consumer's accept list, or no codec knows it. */
export class ContentTypeNotAcceptedError extends DecodeError {
  override readonly code = "ERR_CARROT_CONTENT_TYPE_NOT_ACCEPTED";
  override name = "ContentTypeNotAcceptedError";
}

/** No codec or compression registered under that name. */
export class UnknownCodecError extends CarrotError {
  override readonly code = "ERR_CARROT_UNKNOWN_CODEC";
  override name = "UnknownCodecError";
}

/** A payload failed the publisher's or consumer's schema. */
export class SchemaValidationError extends CarrotError {
  override readonly code = "ERR_CARROT_SCHEMA_VALIDATION";
  override name = "SchemaValidationError";
  /** What the schema reported: each problem's message and, where it has one, the path to the value at fault. */
  issues: readonly {
    /** The schema's message for this problem. */
    message: string;
    /** Where in the payload, key by key, when the schema says. */
    path?: readonly unknown[];
  }[] = [];
}

/**
 * A consumer callback threw (its error is the `cause`); the message went
 * through the consumer's failure policy (`retry`), and the message says what
 * became of it: "retried in 250 ms (attempt 1 of 3)", "moved to 'q.failed'
 * after 3 attempts", "requeued as it was: its retry could not be sent (...)".
 */
export class CallbackError extends CarrotError {
  override readonly code = "ERR_CARROT_CALLBACK";
  override name = "CallbackError";
}

/**
 * A received message larger than the consumer takes: its body over the
 * backend's limit, or a compressed body that inflates past
 * `maxDecompressedSize` (a compression bomb). Rejected, never decoded.
 */
export class TooLargeToDecodeError extends DecodeError {
  override readonly code = "ERR_CARROT_TOO_LARGE_TO_DECODE";
  override name = "TooLargeToDecodeError";
}
