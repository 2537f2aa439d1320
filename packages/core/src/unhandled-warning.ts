import { inspect } from "node:util";

/**
 * An error nobody listens for, as a process warning. Node prints a warning's
 * name, message and `detail`, never an error's `cause`: the cause (for a
 * CallbackError, the callback's own error with its stack) goes in the detail.
 */
export function warnUnhandled(error: Error & { code?: unknown }): void {
  process.emitWarning(error.message, {
    type: error.name,
    code: typeof error.code === "string" ? error.code : undefined,
    detail: error.cause === undefined ? undefined : `Caused by: ${inspect(error.cause)}`,
  });
}
