import { redactUrl } from "@carrot/core";
import { describeOrigin, InvalidSettingError, type SettingOrigin } from "./settings-errors.js";

// Parsers for setting values. The environment gives strings and a module any
// type, so each accepts both forms where a string spelling is natural (a port
// "5672", a boolean "true"). Messages show the offending value only where it
// cannot be a secret: types for strings, redacted URLs, numbers as written.

function invalid(origin: SettingOrigin, expected: string): InvalidSettingError {
  return new InvalidSettingError(`${describeOrigin(origin)} must be ${expected}`, [origin]);
}

function typeOf(value: unknown): string {
  return Array.isArray(value) ? "an array" : typeof value;
}

export function parseString(value: unknown, origin: SettingOrigin): string {
  if (typeof value !== "string") throw invalid(origin, `a string, got ${typeOf(value)}`);
  return value;
}

/** A bare host name. A URL here is a common slip (some tools use AMQP_SERVER for one); it may hold a password, so it is not echoed. */
export function parseHostname(value: unknown, origin: SettingOrigin): string {
  const hostname = parseString(value, origin);
  if (/[/@\s]/.test(hostname)) {
    throw invalid(
      origin,
      "a host name such as rabbit.example.com, but it looks like a URL or holds credentials; put a whole URL in BROKER_URL",
    );
  }
  return hostname;
}

export function parsePort(value: unknown, origin: SettingOrigin): number {
  const port =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^\d+$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    const shown =
      typeof value === "number" || typeof value === "string"
        ? JSON.stringify(value)
        : typeOf(value);
    throw invalid(origin, `a port number from 1 to 65535, got ${shown}`);
  }
  return port;
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** BROKER_USE_SSL: a boolean (or its spelling in the environment), or `tls.connect` options as kombu's dict form. */
export function parseTls(value: unknown, origin: SettingOrigin): boolean | Record<string, unknown> {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (TRUE.has(word)) return true;
    if (FALSE.has(word)) return false;
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  const shown = typeof value === "string" ? JSON.stringify(value) : typeOf(value);
  throw invalid(
    origin,
    `true or false (or "1"/"0", "yes"/"no", "on"/"off"), or an object of TLS options, got ${shown}`,
  );
}

/** BROKER_CONNECTION_TIMEOUT is in seconds, as in kombu and celery; core counts milliseconds. */
export function parseSecondsAsMilliseconds(value: unknown, origin: SettingOrigin): number {
  const seconds =
    typeof value === "number"
      ? value
      : typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    const shown =
      typeof value === "number" || typeof value === "string"
        ? JSON.stringify(value)
        : typeOf(value);
    throw invalid(origin, `a number of seconds greater than 0, got ${shown}`);
  }
  return seconds * 1000;
}

export function parseUrl(value: unknown, origin: SettingOrigin): URL {
  const text = parseString(value, origin);
  try {
    return new URL(text);
  } catch {
    // Node's URL error keeps the raw input (password included) in `input`, so it is not kept as the cause.
    throw invalid(
      origin,
      `a URL such as amqp://user:password@host:5672/vhost, got ${redactUrl(text)}`,
    );
  }
}
