import { assertKnownScheme, type BackendFactoryLike, toFactory } from "./backend-registry.js";
import { DEFAULT_RECONNECT_POLICY } from "./backoff.js";
import type { Backend, BackendFactory, BackendOptions, ReconnectPolicy } from "./contract.js";
import { InvalidOptionsError } from "./errors.js";
import { checkNumber, MAX_TIMER_MS, type NumberRange } from "./number-options.js";
import {
  CONNECTION_OPTION_NAMES,
  checkOptionNames,
  RECONNECT_POLICY_NAMES,
} from "./option-names.js";
import { redactUrl, secretOf } from "./redact.js";
import { checkLogger, type Logger } from "./telemetry/logger.js";
import { checkTelemetryOptions, type TelemetryOptions } from "./telemetry/telemetry-options.js";
import { parseBrokerUrl } from "./url-form.js";

/**
 * How to reach the broker: a `url`, or carrot's AMQP fields (`hostname`,
 * `port`, `userid`, `password`, `vhost`), or a `backend` object; and the
 * connection's limits. A misspelt name fails with `InvalidOptionsError`.
 */
export interface ConnectionOptions {
  /** The broker's URL; its scheme picks the backend (`amqp://`, `redis://`, `sqs://`, `memory://`). */
  url?: string;
  /** carrot's AMQP fields, used when there is no `url` (defaults: localhost, 5672, guest, guest, "/"). */
  hostname?: string;
  /** The broker's port, without `url`; default the scheme's (5672 for AMQP, 5671 with `tls`). */
  port?: number;
  /** The user name, without `url`; default "guest". */
  userid?: string;
  /** The password, without `url`; default "guest". Never shown in messages, errors or `toString()`. */
  password?: string;
  /** The AMQP virtual host, without `url`; default "/". */
  vhost?: string;
  /** A backend object or factory, for backends not chosen by URL (third-party, tests). */
  backend?: Backend | BackendFactoryLike;
  /** Further URLs of the same broker cluster, tried in turn when the current one fails. */
  alternates?: string[];
  /** Milliseconds to connect before failing; default 10 000. */
  connectTimeout?: number;
  /**
   * Seconds between heartbeats (RabbitMQ heartbeats, Redis pings; SQS gives
   * a request its wait plus two of them): a dead connection is noticed
   * within two. Default 30 on RabbitMQ and Redis; 0 turns them off.
   */
  heartbeat?: number;
  /** TLS: true for the platform defaults, or options for `tls.connect` (ca, cert, key, servername...). */
  tls?: boolean | Record<string, unknown>;
  /** Reconnection policy; on by default (bounded exponential backoff with jitter); false turns it off. */
  reconnect?: Partial<ReconnectPolicy> | false;
  /** A name the broker shows for this connection (RabbitMQ's management UI, Redis CLIENT LIST). */
  connectionName?: string;
  /**
   * The backend's own options (amqplib's `frameMax`, Redis's `sentinels`,
   * the SQSClient's config...), typed by what each backend package in the
   * program declares in {@link TransportOptionsByScheme}; a key no backend
   * knows is a compile error, and still an `InvalidOptionsError` from a
   * backend that checks its keys. To hold them to one backend's keys, write
   * `transportOptions: { ... } satisfies TransportOptionsFor<"amqp">`.
   */
  transportOptions?: TransportOptions;
  /**
   * Traces and metrics, through OpenTelemetry: spans of every send,
   * callback, `fetch()` and settle, following the messaging semantic
   * conventions, with the trace context carried in each message's headers
   * (`traceparent`); and counts and durations of messages sent, consumed,
   * settled and in flight. Needs `@opentelemetry/api`, an optional peer
   * dependency. By default on when the application has installed it,
   * recording to the global providers (nothing until an SDK is
   * registered); `{ tracerProvider, meterProvider }` to record elsewhere;
   * `false` turns it off and does not even load the API.
   */
  telemetry?: TelemetryOptions | false;
  /**
   * Where carrot logs: pino, `console`, or any object with `debug`, `info`,
   * `warn` and `error`, called as `(fields, message)` (see {@link Logger}).
   * It hears the connection's life (connected, lost, reconnected, closed)
   * and the consumer errors no `error` listener took, which otherwise are
   * process warnings. Default none.
   */
  logger?: Logger;
}

/**
 * The `transportOptions` of each backend, by URL scheme. Each backend
 * package declares its own here (declaration merging: `declare module
 * "@carrot/core" { interface TransportOptionsByScheme { amqp: AmqplibOptions
 * } }`), so that a program sees the keys of the backends it imports; two
 * backends may give the same key different types, as each scheme keeps its
 * own type.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each backend package.
export interface TransportOptionsByScheme {}

/** The `transportOptions` of the backend of one URL scheme ("amqp", "redis", "sqs"...). */
export type TransportOptionsFor<Scheme extends keyof TransportOptionsByScheme> =
  TransportOptionsByScheme[Scheme];

/**
 * What `ConnectionOptions.transportOptions` takes: the options of any of the
 * backends the program imports; any object while no backend declares its
 * own; none (`{}`) when those declared take none (memory://).
 */
export type TransportOptions = [keyof TransportOptionsByScheme] extends [never]
  ? Record<string, unknown>
  : [TransportOptionsByScheme[keyof TransportOptionsByScheme]] extends [never]
    ? Record<string, never>
    : TransportOptionsByScheme[keyof TransportOptionsByScheme];

export type BackendSource =
  | { kind: "instance"; backend: Backend }
  | { kind: "factory"; factory: BackendFactory }
  | { kind: "scheme"; scheme: string };

export interface ResolvedConnectionOptions {
  source: BackendSource;
  backendOptions: BackendOptions;
  /** What the connection shows of itself: never a password. */
  display: string;
  /** The passwords and tokens in the options, which logs and recorded errors hide. */
  secrets: (string | undefined)[];
  telemetry: TelemetryOptions | false | undefined;
  logger: Logger | undefined;
}

const DEFAULT_CONNECT_TIMEOUT = 10_000;

/** Milliseconds to connect: a timer's, so at most MAX_TIMER_MS (Infinity made Redis throw a RangeError). */
export const CONNECT_TIMEOUT_RANGE: NumberRange = {
  min: 1,
  max: MAX_TIMER_MS,
  unit: "milliseconds",
};
/**
 * Seconds between heartbeats, 0 for none. AMQP carries them in 16 bits;
 * every backend takes the same range, so that options port between them.
 */
export const HEARTBEAT_RANGE: NumberRange = { min: 0, max: 65_535, unit: "seconds" };
const PORT_RANGE: NumberRange = { min: 1, max: 65_535 };
const RECONNECT_RANGES: Readonly<Record<keyof ReconnectPolicy, NumberRange>> = {
  initialDelay: { min: 1, max: MAX_TIMER_MS, unit: "milliseconds" },
  maxDelay: { min: 1, max: MAX_TIMER_MS, unit: "milliseconds" },
  factor: { min: 1, fractional: true },
  maxAttempts: { min: 1, infinity: "to never give up" },
};

export function resolveConnectionOptions(
  input: string | ConnectionOptions | undefined,
): ResolvedConnectionOptions {
  if (input !== undefined && typeof input !== "string") {
    if (typeof input !== "object" || input === null)
      throw new InvalidOptionsError("Connection takes a URL string or an options object");
    checkOptionNames(input, CONNECTION_OPTION_NAMES, "for a Connection");
  }
  const options: ConnectionOptions = typeof input === "string" ? { url: input } : { ...input };
  const observed = {
    secrets: secretsOf(options),
    telemetry: checkTelemetryOptions(options.telemetry),
    logger: checkLogger(options.logger),
  };
  const backendOptions: BackendOptions = {
    url: options.url,
    alternates: validUrls(options.alternates ?? []),
    hostname: options.hostname,
    port: checkNumber("port", options.port, PORT_RANGE),
    userid: options.userid,
    password: options.password,
    vhost: options.vhost,
    connectTimeout:
      checkNumber("connectTimeout", options.connectTimeout, CONNECT_TIMEOUT_RANGE) ??
      DEFAULT_CONNECT_TIMEOUT,
    heartbeat: checkNumber("heartbeat", options.heartbeat, HEARTBEAT_RANGE),
    tls: options.tls,
    reconnect: checkReconnectPolicy(options.reconnect),
    connectionName: options.connectionName,
    // A copy, which types as a record: a backend's options interface has no index signature.
    transportOptions: { ...options.transportOptions },
  };

  if (options.backend) {
    const backend = options.backend;
    const source: BackendSource = isBackend(backend)
      ? { kind: "instance", backend }
      : { kind: "factory", factory: toFactory(backend) };
    const name = source.kind === "instance" ? source.backend.name : source.factory.name;
    return { source, backendOptions, display: `${name} backend`, ...observed };
  }

  if (options.url !== undefined) {
    const scheme = schemeOf(options.url);
    assertKnownScheme(scheme);
    return {
      source: { kind: "scheme", scheme },
      backendOptions,
      display: redactUrl(options.url),
      ...observed,
    };
  }

  // carrot's default: AMQP with the individual fields.
  const scheme = options.tls ? "amqps" : "amqp";
  backendOptions.hostname ??= "localhost";
  backendOptions.userid ??= "guest";
  backendOptions.password ??= "guest";
  backendOptions.vhost ??= "/";
  const port = backendOptions.port ? `:${backendOptions.port}` : "";
  const display = `${scheme}://${backendOptions.userid}@${backendOptions.hostname}${port}/${encodeURIComponent(backendOptions.vhost)}`;
  return { source: { kind: "scheme", scheme }, backendOptions, display, ...observed };
}

/** The password given, and those (or tokens) in the URLs. */
function secretsOf(options: ConnectionOptions): (string | undefined)[] {
  const secrets = [options.password];
  for (const url of [
    options.url,
    ...(Array.isArray(options.alternates) ? options.alternates : []),
  ]) {
    if (typeof url !== "string") continue;
    let parsed: URL;
    try {
      parsed = new URL(firstHostOnly(url));
    } catch {
      continue; // refused below, by a message that shows no secret
    }
    const { username, password } = parsed;
    // As written, and as the client is given it (unescaped).
    secrets.push(secretOf(username, password), secretOf(unescaped(username), unescaped(password)));
  }
  return secrets;
}

function unescaped(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function schemeOf(url: string): string {
  if (typeof url !== "string")
    throw new InvalidOptionsError(`a broker URL must be a string, got ${typeof url}`);
  // A multi-node URL (redis+cluster://h1:7000,h2:7000) is checked by its first
  // node: the backend reads the whole list.
  const parsed = parseBrokerUrl(
    firstHostOnly(url),
    redactUrl(url),
    "e.g. amqp://user:password@host:5672/vhost",
  );
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  // "redis:host:6379" parses, as a path with no host: the backend would then
  // connect to its default host instead.
  const afterScheme = url.trimStart().slice(scheme.length + 1);
  if (!afterScheme.startsWith("//")) {
    throw new InvalidOptionsError(
      // Not shown as given: with no "//" a password in it is not found to hide.
      `a broker URL needs '//' after '${scheme}:'; write ${redactUrl(`${scheme}://${afterScheme}`)}`,
    );
  }
  return scheme;
}

/** `scheme://[user@]h1:p1,h2:p2/...` with its first host only. */
function firstHostOnly(url: string): string {
  return url.replace(
    /^(\s*[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?[^/?#,@]*),[^/?#@]*(?=[/?#]|$)/i,
    "$1",
  );
}

function isBackend(value: unknown): value is Backend {
  const backend = value as Backend;
  return (
    typeof backend === "object" &&
    typeof backend.publish === "function" &&
    typeof backend.consume === "function"
  );
}

/**
 * The reconnect policy: carrot's defaults under the fields given, each in
 * range. Exported for backends that also take a policy of their own.
 */
export function checkReconnectPolicy(
  input: Partial<ReconnectPolicy> | false | undefined,
): ReconnectPolicy | false {
  if (input === false) return false;
  if (input !== undefined) checkOptionNames(input, RECONNECT_POLICY_NAMES, "in reconnect");
  const policy = { ...DEFAULT_RECONNECT_POLICY, ...input };
  for (const key of Object.keys(RECONNECT_RANGES) as (keyof ReconnectPolicy)[])
    checkNumber(`reconnect.${key}`, policy[key], RECONNECT_RANGES[key]);
  return policy;
}

function validUrls(urls: string[]): string[] {
  if (!Array.isArray(urls))
    throw new InvalidOptionsError(`alternates must be an array of URLs, got a ${typeof urls}`);
  for (const url of urls) schemeOf(url);
  return [...urls];
}
