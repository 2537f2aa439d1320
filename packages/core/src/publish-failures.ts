import { ConnectionError, PublishOutcomeUnknownError, PublishTimeoutError } from "./errors.js";

/**
 * A publish failure that says nothing about the message: the connection
 * failed or did not answer, so the same publish may succeed later. Any
 * other failure (no such exchange, too large, not encodable) is the
 * message's own and would fail again. Backends that dead-letter by
 * publishing use this to decide between keeping a rejected message for a
 * retry and dropping it, as RabbitMQ drops what it cannot dead-letter.
 */
export function isTransientPublishError(error: unknown): boolean {
  return (
    error instanceof ConnectionError ||
    error instanceof PublishOutcomeUnknownError ||
    error instanceof PublishTimeoutError
  );
}
