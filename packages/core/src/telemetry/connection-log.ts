import type { BackendEventEmitter } from "../events.js";
import { redactText } from "../redact.js";
import type { Logger } from "./logger.js";

/**
 * Logs a connection's life from its events: connected and closed at info,
 * lost at warn (with why), reconnected at info, and the errors the backend
 * handled itself at warn. A reconnection's own `connect` is left to its
 * `reconnect`, so that each comeback is one line. Hosts carry no password
 * (events never do); error messages go through `redactText` with the
 * connection's secrets all the same.
 */
export function logConnectionEvents(
  events: BackendEventEmitter,
  logger: Logger,
  secrets: readonly (string | undefined)[],
): void {
  let lost = false;
  const why = (error: Error) => redactText(`${error.name}: ${error.message}`, secrets);
  const code = (error: Error) => (error as { code?: unknown }).code;
  events.on("connect", ({ host }) => {
    if (!lost) logger.info({ host }, `carrot connected to ${host}`);
  });
  events.on("disconnect", ({ host, error }) => {
    if (!error) {
      logger.info({ host }, `carrot closed its connection to ${host}`);
      return;
    }
    lost = true;
    logger.warn(
      { host, code: code(error) },
      `carrot lost its connection to ${host}: ${why(error)}`,
    );
  });
  events.on("reconnect", ({ host, attempt }) => {
    lost = false;
    logger.info({ host, attempt }, `carrot reconnected to ${host} (attempt ${attempt})`);
  });
  events.on("error", ({ error }) => {
    logger.warn({ code: code(error) }, `carrot: ${why(error)}`);
  });
}
