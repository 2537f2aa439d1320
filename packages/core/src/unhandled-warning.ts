import { inspect } from "node:util";
import type { Logger } from "./telemetry/logger.js";

/**
 * An error nobody listens for: to `logger.warn` when the connection has a
 * logger, else a process warning. Either way its cause (for a
 * CallbackError, the callback's own error) is shown with its message and
 * stack: the logger gets it as `err` (which pino serializes and `console`
 * prints with its stack) and its message in the sentence; the warning, in
 * its `detail`, since Node prints a warning's name, message and detail,
 * never an error's `cause`.
 */
export function warnUnhandled(
  error: Error & { code?: unknown },
  logger?: Logger,
  fields: Record<string, unknown> = {},
): void {
  const { cause } = error;
  const code = typeof error.code === "string" ? error.code : undefined;
  if (logger) {
    const because =
      cause === undefined
        ? ""
        : `; caused by ${cause instanceof Error ? `${cause.name}: ${cause.message}` : inspect(cause)}`;
    logger.warn(
      { ...fields, code, err: cause === undefined ? error : cause },
      `${error.name}: ${error.message}${because}`,
    );
    return;
  }
  process.emitWarning(error.message, {
    type: error.name,
    code,
    detail: cause === undefined ? undefined : `Caused by: ${inspect(cause)}`,
  });
}
