/**
 * Every error carrot throws. Each class has a fixed `name` and a stable
 * `code` (safe to switch on), a message that names the offending value and
 * what to do next, and keeps the underlying error as `cause`.
 * No message ever contains a password: build them from `redactUrl` output.
 */

export class CarrotError extends Error {
  readonly code: string = "ERR_CARROT";
  override name = "CarrotError";
}

function defineError<const C extends string>(name: string, code: C, Base = CarrotError) {
  const cls = class extends Base {
    override readonly code: C = code;
    override name = name;
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

// Configuration and input

/** An option is missing, of the wrong type, or out of range. */
export class InvalidOptionsError extends defineError(
  "InvalidOptionsError",
  "ERR_CARROT_INVALID_OPTIONS",
) {}
/** A URL scheme no backend serves. */
export class UnknownSchemeError extends defineError(
  "UnknownSchemeError",
  "ERR_CARROT_UNKNOWN_SCHEME",
) {}
/** The backend package for a URL scheme is not installed. */
export class BackendNotInstalledError extends defineError(
  "BackendNotInstalledError",
  "ERR_CARROT_BACKEND_NOT_INSTALLED",
) {}
/** The backend does not have a capability the caller asked for. */
export class UnsupportedFeatureError extends defineError(
  "UnsupportedFeatureError",
  "ERR_CARROT_UNSUPPORTED",
) {}

// Connection

/** The broker could not be reached or the connection failed. Names the host, never the password. */
export class ConnectionError extends defineError("ConnectionError", "ERR_CARROT_CONNECTION") {}
/** The broker refused the credentials, or the vhost/database they were used on. */
export class AuthenticationError extends defineError(
  "AuthenticationError",
  "ERR_CARROT_AUTH",
  ConnectionError,
) {}
/** No connection within the connect timeout. */
export class ConnectTimeoutError extends defineError(
  "ConnectTimeoutError",
  "ERR_CARROT_CONNECT_TIMEOUT",
  ConnectionError,
) {}
/** The connection (or the one that delivered a message) is gone; the operation did not happen. */
export class ConnectionLostError extends defineError(
  "ConnectionLostError",
  "ERR_CARROT_CONNECTION_LOST",
  ConnectionError,
) {}
/** The Connection, Publisher or Consumer was closed by the application. */
export class ClosedError extends defineError("ClosedError", "ERR_CARROT_CLOSED") {}

// Topology

/** A redeclare with different settings (type, durability, arguments) than the existing one. */
export class DeclarationConflictError extends defineError(
  "DeclarationConflictError",
  "ERR_CARROT_DECLARATION_CONFLICT",
) {}
/** A queue or exchange that does not exist. */
export class NotFoundError extends defineError("NotFoundError", "ERR_CARROT_NOT_FOUND") {}
/** An exclusive queue or consumer held by another connection. */
export class ResourceLockedError extends defineError(
  "ResourceLockedError",
  "ERR_CARROT_RESOURCE_LOCKED",
) {}

// Publishing: a send either resolves (the broker has it) or rejects with one of these.

/** The broker refused the message (negative confirm). It is not on the broker. */
export class PublishNackedError extends defineError(
  "PublishNackedError",
  "ERR_CARROT_PUBLISH_NACKED",
) {}
/** A `mandatory` message that no queue was bound to receive. It is not on the broker. */
export class UnroutableError extends defineError("UnroutableError", "ERR_CARROT_UNROUTABLE") {}
/** No answer from the broker within the send deadline: the message may or may not be there. */
export class PublishTimeoutError extends defineError(
  "PublishTimeoutError",
  "ERR_CARROT_PUBLISH_TIMEOUT",
) {}
/** The connection died before the broker confirmed: the message may or may not be there. */
export class PublishOutcomeUnknownError extends defineError(
  "PublishOutcomeUnknownError",
  "ERR_CARROT_PUBLISH_OUTCOME_UNKNOWN",
) {}
/** The message is larger than the backend allows; nothing was sent. */
export class MessageTooLargeError extends defineError(
  "MessageTooLargeError",
  "ERR_CARROT_MESSAGE_TOO_LARGE",
) {}

// Messages and codecs

/** A message was settled twice, or settled when it cannot be (noAck). */
export class MessageStateError extends defineError(
  "MessageStateError",
  "ERR_CARROT_MESSAGE_STATE",
) {}
/** A value could not be encoded by the chosen codec. */
export class EncodeError extends defineError("EncodeError", "ERR_CARROT_ENCODE") {}
/** A body could not be decompressed or decoded. */
export class DecodeError extends defineError("DecodeError", "ERR_CARROT_DECODE") {}
/** The message's content type is not in the consumer's accept list, or no codec knows it. */
export class ContentTypeNotAcceptedError extends defineError(
  "ContentTypeNotAcceptedError",
  "ERR_CARROT_CONTENT_TYPE_NOT_ACCEPTED",
  DecodeError,
) {}
/** No codec or compression registered under that name. */
export class UnknownCodecError extends defineError(
  "UnknownCodecError",
  "ERR_CARROT_UNKNOWN_CODEC",
) {}
/** A payload failed the publisher's or consumer's schema. */
export class SchemaValidationError extends defineError(
  "SchemaValidationError",
  "ERR_CARROT_SCHEMA_VALIDATION",
) {
  issues: readonly { message: string; path?: readonly unknown[] }[] = [];
}
/** A consumer callback threw; the message went through the consumer's failure policy. */
export class CallbackError extends defineError("CallbackError", "ERR_CARROT_CALLBACK") {}
