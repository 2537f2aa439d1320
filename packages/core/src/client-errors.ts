import type { CarrotError, CarrotErrorOptions } from "./errors.js";
import { redactText } from "./redact.js";

/** Causes copied below a wrapped error; a cycle in a chain must not loop. */
const MAX_CAUSES = 8;

/**
 * What carrot keeps of a client library's error. Those errors hold what must
 * never be shown: ioredis's ReplyError keeps the failed command (after a
 * wrong password, `HELLO 3 AUTH user <password>`), the AWS SDK's keep the
 * HTTP response, and any may quote a URL with its credentials or a request
 * signed with a session token. The copy keeps the name, the code, the
 * message and the stack (both through `redactText` with `secrets`) and the
 * cause chain, copied the same way; nothing else.
 */
export function sanitizedCause(
  error: unknown,
  secrets: readonly (string | undefined)[] = [],
): Error {
  return copyOf(error, secrets, 0);
}

function copyOf(error: unknown, secrets: readonly (string | undefined)[], depth: number): Error {
  if (!(error instanceof Error)) return new Error(redactText(String(error), secrets));
  const copy = new Error(redactText(error.message, secrets));
  // Not enumerable, as on Error.prototype: shown once, in the stack's first line.
  Object.defineProperty(copy, "name", { value: error.name, writable: true, configurable: true });
  copy.stack = redactText(error.stack ?? `${error.name}: ${error.message}`, secrets);
  const { code } = error as { code?: unknown };
  if (typeof code === "string" || typeof code === "number") Object.assign(copy, { code });
  if (error.cause !== undefined && depth < MAX_CAUSES)
    copy.cause = copyOf(error.cause, secrets, depth + 1);
  return copy;
}

/**
 * A client library's error as the carrot error `Kind`: the message through
 * `redactText` (it often quotes the client's), `cause` the sanitized copy,
 * and `clientCode` the client's code (`ECONNRESET`, 403), else its name
 * (`TimeoutError`), unless the caller knows better (Redis's reply prefix).
 * Every backend wraps what its client throws with this, so that no client
 * error reaches an application as it is.
 */
export function clientError<E extends CarrotError>(
  Kind: new (message: string, options?: CarrotErrorOptions) => E,
  message: string,
  error: unknown,
  options: { secrets?: readonly (string | undefined)[]; clientCode?: string } = {},
): E {
  const secrets = options.secrets ?? [];
  const wrapped = new Kind(redactText(message, secrets), {
    cause: sanitizedCause(error, secrets),
    clientCode: options.clientCode ?? clientCodeOf(error),
  });
  // The stack starts where the backend wrapped the error, not in here.
  Error.captureStackTrace(wrapped, clientError);
  return wrapped;
}

function clientCodeOf(error: unknown): string | undefined {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === "string" || typeof code === "number") return String(code);
  return typeof name === "string" && name !== "Error" ? name : undefined;
}
