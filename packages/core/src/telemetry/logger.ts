import { InvalidOptionsError } from "../errors.js";

/**
 * What a Connection logs to: pino, `console`, or any object with these
 * four methods. carrot calls them as pino's are called, `(fields,
 * message)`: an object of fields (`host`, `queue`, `code`; `err`, an
 * error with its stack, which pino serializes and `console` prints), then
 * a sentence that stands on its own. No field or sentence holds a
 * password.
 */
export interface Logger {
  /** Detail, for debugging. */
  debug(fields: LogFields, message: string): void;
  /** The connection's life: connected, reconnected, closed. */
  info(fields: LogFields, message: string): void;
  /** A connection lost; an error nobody listened for (a callback that threw...). */
  warn(fields: LogFields, message: string): void;
  /** A failure carrot could not handle itself. */
  error(fields: LogFields, message: string): void;
}

/** The fields of one log entry. */
export type LogFields = Record<string, unknown>;

const LEVELS = ["debug", "info", "warn", "error"] as const;

/** The `logger` option, checked: an object with the four methods. */
export function checkLogger(logger: unknown): Logger | undefined {
  if (logger === undefined) return undefined;
  const what = "logger must have the methods debug, info, warn and error (pino, console...)";
  if ((typeof logger !== "object" && typeof logger !== "function") || logger === null)
    throw new InvalidOptionsError(`${what}; got ${logger === null ? "null" : typeof logger}`);
  const missing = LEVELS.filter(
    (level) => typeof (logger as Record<string, unknown>)[level] !== "function",
  );
  if (missing.length > 0) throw new InvalidOptionsError(`${what}; it lacks ${missing.join(", ")}`);
  return logger as Logger;
}
