import { assertKnownScheme, type BackendFactoryLike, toFactory } from "./backend-registry.js";
import { DEFAULT_RECONNECT_POLICY } from "./backoff.js";
import type { Backend, BackendFactory, BackendOptions, ReconnectPolicy } from "./contract.js";
import { InvalidOptionsError } from "./errors.js";
import { redactUrl } from "./redact.js";

export interface ConnectionOptions {
  /** The broker's URL; its scheme picks the backend (`amqp://`, `redis://`, `sqs://`, `memory://`). */
  url?: string;
  /** carrot's AMQP fields, used when there is no `url` (defaults: localhost, 5672, guest, guest, "/"). */
  hostname?: string;
  port?: number;
  userid?: string;
  password?: string;
  vhost?: string;
  /** A backend object or factory, for backends not chosen by URL (third-party, tests). */
  backend?: Backend | BackendFactoryLike;
  /** Further URLs of the same broker cluster, tried in turn when the current one fails. */
  alternates?: string[];
  /** Milliseconds to connect before failing; default 10 000. */
  connectTimeout?: number;
  /** Seconds between heartbeats, where the broker has them. */
  heartbeat?: number;
  /** TLS: true for the platform defaults, or options for `tls.connect` (ca, cert, key, servername...). */
  tls?: boolean | Record<string, unknown>;
  /** Reconnection policy; on by default (bounded exponential backoff with jitter); false turns it off. */
  reconnect?: Partial<ReconnectPolicy> | false;
  /** A name the broker shows for this connection (RabbitMQ's management UI, Redis CLIENT LIST). */
  connectionName?: string;
  /** Options passed to the backend's client library as they are. */
  transportOptions?: Record<string, unknown>;
}

export type BackendSource =
  | { kind: "instance"; backend: Backend }
  | { kind: "factory"; factory: BackendFactory }
  | { kind: "scheme"; scheme: string };

export interface ResolvedConnectionOptions {
  source: BackendSource;
  backendOptions: BackendOptions;
  /** What the connection shows of itself: never a password. */
  display: string;
}

const DEFAULT_CONNECT_TIMEOUT = 10_000;

export function resolveConnectionOptions(
  input: string | ConnectionOptions | undefined,
): ResolvedConnectionOptions {
  const options: ConnectionOptions = typeof input === "string" ? { url: input } : { ...input };
  if (
    input !== undefined &&
    typeof input !== "string" &&
    (typeof input !== "object" || input === null)
  ) {
    throw new InvalidOptionsError("Connection takes a URL string or an options object");
  }
  const backendOptions: BackendOptions = {
    url: options.url,
    alternates: validUrls(options.alternates ?? []),
    hostname: options.hostname,
    port: checkPort(options.port),
    userid: options.userid,
    password: options.password,
    vhost: options.vhost,
    connectTimeout: positive("connectTimeout", options.connectTimeout) ?? DEFAULT_CONNECT_TIMEOUT,
    heartbeat: nonNegative("heartbeat", options.heartbeat),
    tls: options.tls,
    reconnect: reconnectPolicy(options.reconnect),
    connectionName: options.connectionName,
    transportOptions: options.transportOptions ?? {},
  };

  if (options.backend) {
    const backend = options.backend;
    const source: BackendSource = isBackend(backend)
      ? { kind: "instance", backend }
      : { kind: "factory", factory: toFactory(backend) };
    const name = source.kind === "instance" ? source.backend.name : source.factory.name;
    return { source, backendOptions, display: `${name} backend` };
  }

  if (options.url !== undefined) {
    const scheme = schemeOf(options.url);
    assertKnownScheme(scheme);
    return { source: { kind: "scheme", scheme }, backendOptions, display: redactUrl(options.url) };
  }

  // carrot's default: AMQP with the individual fields.
  const scheme = options.tls ? "amqps" : "amqp";
  backendOptions.hostname ??= "localhost";
  backendOptions.userid ??= "guest";
  backendOptions.password ??= "guest";
  backendOptions.vhost ??= "/";
  const port = backendOptions.port ? `:${backendOptions.port}` : "";
  const display = `${scheme}://${backendOptions.userid}@${backendOptions.hostname}${port}/${encodeURIComponent(backendOptions.vhost)}`;
  return { source: { kind: "scheme", scheme }, backendOptions, display };
}

function schemeOf(url: string): string {
  if (typeof url !== "string")
    throw new InvalidOptionsError(`a broker URL must be a string, got ${typeof url}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new InvalidOptionsError(
      `${redactUrl(url)} is not a valid URL; expected e.g. amqp://user:password@host:5672/vhost`,
      { cause: error },
    );
  }
  return parsed.protocol.slice(0, -1).toLowerCase();
}

function isBackend(value: unknown): value is Backend {
  const backend = value as Backend;
  return (
    typeof backend === "object" &&
    typeof backend.publish === "function" &&
    typeof backend.consume === "function"
  );
}

function checkPort(port: number | undefined): number | undefined {
  if (port === undefined) return undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidOptionsError(
      `port must be an integer from 1 to 65535, got ${JSON.stringify(port)}`,
    );
  }
  return port;
}

function positive(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value > 0))
    throw new InvalidOptionsError(
      `${name} must be a positive number, got ${JSON.stringify(value)}`,
    );
  return value;
}

function nonNegative(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new InvalidOptionsError(
      `${name} must be a number of seconds >= 0, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function reconnectPolicy(
  input: Partial<ReconnectPolicy> | false | undefined,
): ReconnectPolicy | false {
  if (input === false) return false;
  const policy = { ...DEFAULT_RECONNECT_POLICY, ...input };
  for (const key of ["initialDelay", "maxDelay", "factor", "maxAttempts"] as const)
    positive(`reconnect.${key}`, policy[key]);
  if (policy.factor < 1)
    throw new InvalidOptionsError(`reconnect.factor must be >= 1, got ${policy.factor}`);
  return policy;
}

function validUrls(urls: string[]): string[] {
  for (const url of urls) schemeOf(url);
  return [...urls];
}
