/**
 * The failure record: what a message that failed carries, in headers with
 * one schema on every backend, so that whoever finds it in a dead-letter or
 * failed queue (or a later attempt of it) can tell why it is there.
 *
 * Flat headers rather than one nested table: they show as they are in the
 * broker's tools (RabbitMQ's management UI, `redis-cli`, the SQS console),
 * and a headers exchange can route on them.
 */
import type { Headers, HeaderValue } from "./contract.js";

/** The headers of the failure record, by what they hold. */
export const FAILURE_HEADERS = {
  /** How many deliveries failed (or were retried) before this copy was sent: a number. */
  attempts: "x-carrot-attempts",
  /** The last error's name ("TypeError"): a string. */
  errorName: "x-carrot-error-name",
  /** The last error's message, cut to {@link MAX_ERROR_MESSAGE} characters: a string. */
  errorMessage: "x-carrot-error-message",
  /** When the first attempt failed: a Date (to the second on RabbitMQ, whose tables hold seconds). */
  firstFailure: "x-carrot-first-failure",
  /** When the last attempt failed: a Date. */
  lastFailure: "x-carrot-last-failure",
  /** The exchange the message was first published to, kept when a retry is sent to the queue alone. */
  originalExchange: "x-carrot-original-exchange",
  /** The routing key the message was first published with, kept likewise. */
  originalRoutingKey: "x-carrot-original-routing-key",
} as const;

/** Error messages longer than this are cut: a header is no place for a stack of pages. */
export const MAX_ERROR_MESSAGE = 1_000;
/** Error names longer than this are cut. */
const MAX_ERROR_NAME = 100;

/** Why a message failed, as its failure record says. */
export interface FailureRecord {
  /** Deliveries that failed or were retried before this copy was sent. */
  readonly attempts: number;
  /** The last error's name, when one was recorded (a `message.retry()` records none). */
  readonly errorName?: string;
  /** The last error's message, when one was recorded. */
  readonly errorMessage?: string;
  /** When the first attempt failed. */
  readonly firstFailure: Date;
  /** When the last attempt failed. */
  readonly lastFailure: Date;
  /** Where the message was first published: kept across retries sent to the queue alone. */
  readonly originalExchange?: string;
  /** Its first routing key, kept likewise. */
  readonly originalRoutingKey?: string;
}

/**
 * The failure record a message carries, or undefined when it has none or
 * one that does not read (the headers are another client's to write: a
 * malformed record is no record, never an exception).
 */
export function readFailureRecord(headers: Headers): FailureRecord | undefined {
  const attempts = headers[FAILURE_HEADERS.attempts];
  // First and alone: most messages have no record, and a message's info reads this.
  if (!isCount(attempts)) return undefined;
  const firstFailure = asDate(headers[FAILURE_HEADERS.firstFailure]);
  const lastFailure = asDate(headers[FAILURE_HEADERS.lastFailure]);
  if (!firstFailure || !lastFailure) return undefined;
  return {
    attempts,
    firstFailure,
    lastFailure,
    ...optionalString("errorName", headers[FAILURE_HEADERS.errorName]),
    ...optionalString("errorMessage", headers[FAILURE_HEADERS.errorMessage]),
    ...optionalString("originalExchange", headers[FAILURE_HEADERS.originalExchange]),
    ...optionalString("originalRoutingKey", headers[FAILURE_HEADERS.originalRoutingKey]),
  };
}

/**
 * The headers of a copy sent after one more failed attempt: the message's
 * own headers, with the record updated (the first failure and the original
 * destination kept from an earlier record, when there is one).
 */
export function withFailure(
  headers: Headers,
  failure: {
    /** Deliveries so far, this one included. */
    attempts: number;
    /**
     * What this attempt failed with, whatever was thrown (`undefined`
     * included, when given as a key); absent for a retry asked for without an error.
     */
    error?: unknown;
    /** Where this copy was delivered from, for a first record. */
    exchange: string;
    routingKey: string;
    now: Date;
  },
): Headers {
  const earlier = readFailureRecord(headers);
  const next: Headers = Object.assign(Object.create(null) as Headers, headers);
  for (const name of Object.values(FAILURE_HEADERS)) delete next[name];
  next[FAILURE_HEADERS.attempts] = failure.attempts;
  if ("error" in failure) {
    const { name, message } = describe(failure.error);
    next[FAILURE_HEADERS.errorName] = headerText(name, MAX_ERROR_NAME);
    next[FAILURE_HEADERS.errorMessage] = headerText(message, MAX_ERROR_MESSAGE);
  }
  next[FAILURE_HEADERS.firstFailure] = earlier?.firstFailure ?? failure.now;
  next[FAILURE_HEADERS.lastFailure] = failure.now;
  next[FAILURE_HEADERS.originalExchange] = earlier?.originalExchange ?? failure.exchange;
  next[FAILURE_HEADERS.originalRoutingKey] = earlier?.originalRoutingKey ?? failure.routingKey;
  return next;
}

/**
 * A thrown value's name and message, whatever was thrown: an Error, any
 * object with a string `name` or `message`, a primitive, a Symbol. Reading a
 * thrown value is running its code (getters, `toString`, a revoked Proxy's
 * traps): whatever of that throws gives a placeholder, never an exception
 * out of the failure policy.
 */
function describe(error: unknown): { name: string; message: string } {
  if (typeof error !== "object" || error === null) {
    // String() (not a template) prints a Symbol; a primitive's own conversion cannot throw.
    return { name: typeof error, message: String(error) };
  }
  return {
    name: readString(() => (error as { name?: unknown }).name) ?? "object",
    message:
      readString(() => (error as { message?: unknown }).message) ??
      readString(() => String(error)) ??
      "(the thrown object could not be read)",
  };
}

function readString(read: () => unknown): string | undefined {
  try {
    const value = read();
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Text a header of every backend carries as is: cut to `max` UTF-16 units,
 * and each character that an SQS attribute or XML 1.0 refuses (controls but
 * tab and line breaks, lone surrogates (a cut may make one), U+FFFE/U+FFFF)
 * replaced by U+FFFD: an error message is the thrower's text, and a record
 * the broker refuses would leave the message unsendable.
 */
function headerText(text: string, max: number): string {
  return text
    .slice(0, max)
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD");
}

function isCount(value: HeaderValue | undefined): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function asDate(value: HeaderValue | undefined): Date | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : undefined;
}

function optionalString<K extends string>(
  key: K,
  value: HeaderValue | undefined,
): Partial<Record<K, string>> {
  return typeof value === "string" ? ({ [key]: value } as Record<K, string>) : {};
}
