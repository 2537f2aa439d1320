import type { BackendOptions } from "@carrot/core/backend";
import {
  CONNECT_TIMEOUT_RANGE,
  checkNumber,
  closestName,
  HEARTBEAT_RANGE,
  InvalidOptionsError,
  type NumberRange,
  numberFromText,
  parseBrokerUrl,
  redactUrl,
} from "@carrot/core/backend";
import type { Options, SocketOptions } from "amqplib";

/** One broker address to try, in the form amqplib takes, plus how to name it safely. */
export interface Endpoint {
  /** host:port/vhost, never credentials: what errors and events show. */
  readonly display: string;
  readonly host: string;
  readonly username: string;
  readonly connect: Options.Connect;
  readonly socket: SocketOptions;
}

/** The transport options this backend reads from `transportOptions`. */
export interface AmqplibTransportOptions {
  /** Extra amqplib/Node socket options (keepAlive, localAddress...); `noDelay` is on unless set false. */
  socketOptions?: SocketOptions;
  /** Largest frame in bytes the client proposes (amqplib's default: 131072). */
  frameMax?: number;
  /** Most channels the client proposes (0: the server's limit). */
  channelMax?: number;
}

const DEFAULT_PORTS: Record<string, number> = { amqp: 5672, amqps: 5671 };
const PORT_RANGE: NumberRange = { min: 1, max: 65_535 };
/**
 * The query parameters of the RabbitMQ URI spec that carrot reads, and their
 * ranges: the AMQP field each fills (16-bit heartbeat and channel_max,
 * 32-bit frame_max) and core's connect timeout.
 */
const QUERY_RANGES: Readonly<Record<string, NumberRange>> = {
  heartbeat: HEARTBEAT_RANGE,
  connection_timeout: CONNECT_TIMEOUT_RANGE,
  frame_max: { min: 0, max: 2 ** 32 - 1, unit: "bytes" },
  channel_max: { min: 0, max: 65_535 },
};
/**
 * Seconds. Two missed heartbeats end a connection that died without a word,
 * so it is noticed within a minute, as on the Redis backend; with the
 * server's 60 s it took two. 0 turns them off.
 */
const DEFAULT_HEARTBEAT = 30;

/**
 * Every address to try, in order: the URL (or the carrot fields), then the
 * alternates. URLs follow the RabbitMQ URI spec: user and password and the
 * vhost are percent-decoded, the vhost is the single path segment ("%2F" is
 * "/"), and the query may set heartbeat, connection_timeout, frame_max and
 * channel_max. A URL with no path, or an empty one, means the default vhost "/".
 */
export function endpointsFrom(
  options: BackendOptions,
  transport: AmqplibTransportOptions,
): Endpoint[] {
  const primary = options.url
    ? fromUrl(options.url, options, transport)
    : fromFields(options, transport);
  return [primary, ...options.alternates.map((url) => fromUrl(url, options, transport))];
}

interface Parts {
  protocol: string;
  hostname: string;
  port: number;
  username: string;
  password: string;
  vhost: string;
  query: URLSearchParams;
}

function fromUrl(
  url: string,
  options: BackendOptions,
  transport: AmqplibTransportOptions,
): Endpoint {
  const shown = redactUrl(url);
  const parsed = parseBrokerUrl(url, shown, "amqp://user:password@host:5672/vhost");
  const protocol = parsed.protocol.slice(0, -1).toLowerCase();
  if (!(protocol in DEFAULT_PORTS)) {
    throw new InvalidOptionsError(
      `${shown}: the amqplib backend serves amqp:// and amqps:// URLs, not ${protocol}://`,
    );
  }
  if (!parsed.hostname)
    throw new InvalidOptionsError(
      `${shown} names no host; expected amqp://user:password@host:5672/vhost`,
    );
  const path = parsed.pathname;
  if (path.indexOf("/", 1) !== -1) {
    throw new InvalidOptionsError(
      `${shown}: the vhost is one path segment; write a "/" inside a vhost name as %2F`,
    );
  }
  for (const key of parsed.searchParams.keys()) checkQueryName(key, shown);
  const parts: Parts = {
    protocol,
    hostname: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port
      ? checkNumber(`the port of ${shown}`, Number(parsed.port), PORT_RANGE)
      : DEFAULT_PORTS[protocol]!,
    username: decode(parsed.username, shown, "user name"),
    password: decode(parsed.password, shown, "password"),
    vhost: path.length > 1 ? decode(path.slice(1), shown, "vhost") : "/",
    query: parsed.searchParams,
  };
  // An empty userinfo means RabbitMQ's default user, as every AMQP client reads it.
  if (!parsed.username && !parsed.password) {
    parts.username = options.userid ?? "guest";
    parts.password = options.password ?? "guest";
  }
  return endpoint(parts, options, transport, shown);
}

function fromFields(options: BackendOptions, transport: AmqplibTransportOptions): Endpoint {
  const protocol = options.tls ? "amqps" : "amqp";
  const parts: Parts = {
    protocol,
    hostname: options.hostname ?? "localhost",
    port: options.port ?? DEFAULT_PORTS[protocol]!,
    username: options.userid ?? "guest",
    password: options.password ?? "guest",
    vhost: options.vhost ?? "/",
    query: new URLSearchParams(),
  };
  return endpoint(parts, options, transport, `${protocol}://${parts.hostname}:${parts.port}`);
}

function endpoint(
  parts: Parts,
  options: BackendOptions,
  transport: AmqplibTransportOptions,
  shown: string,
): Endpoint {
  const useTls = parts.protocol === "amqps" || Boolean(options.tls);
  const tlsOptions = typeof options.tls === "object" && options.tls !== null ? options.tls : {};
  const heartbeat =
    options.heartbeat ?? queryNumber(parts.query, "heartbeat", shown) ?? DEFAULT_HEARTBEAT;
  const connectionName = options.connectionName;
  const host = `${parts.hostname}:${parts.port}`;
  return {
    display: `${host}/${parts.vhost === "/" ? "" : encodeURIComponent(parts.vhost)}`,
    host,
    username: parts.username,
    connect: {
      protocol: useTls ? "amqps" : "amqp",
      hostname: parts.hostname,
      port: parts.port,
      username: parts.username,
      password: parts.password,
      // amqplib percent-decodes the vhost it is given, so hand it the encoded form.
      vhost: encodeURIComponent(parts.vhost),
      heartbeat,
      frameMax: transport.frameMax ?? queryNumber(parts.query, "frame_max", shown),
      channelMax: transport.channelMax ?? queryNumber(parts.query, "channel_max", shown),
    },
    socket: {
      // Nagle's algorithm holds small frames back: with it on, latency at a few
      // thousand messages/s is tens of milliseconds instead of one or two.
      noDelay: true,
      ...tlsOptions,
      ...transport.socketOptions,
      ...(connectionName ? { clientProperties: { connection_name: connectionName } } : {}),
    },
  };
}

/** `connection_timeout` from the URL query, in milliseconds, if present. */
export function urlConnectTimeout(url: string | undefined): number | undefined {
  if (!url) return undefined;
  try {
    return queryNumber(new URL(url).searchParams, "connection_timeout", redactUrl(url));
  } catch (error) {
    if (error instanceof InvalidOptionsError) throw error;
    return undefined;
  }
}

function queryNumber(query: URLSearchParams, name: string, shown: string): number | undefined {
  return numberFromText(`${shown}: ${name}`, query.get(name), QUERY_RANGES[name] as NumberRange);
}

/** A query parameter carrot does not read would be ignored without a word: refused, with the closest it reads. */
function checkQueryName(key: string, shown: string): void {
  if (Object.hasOwn(QUERY_RANGES, key)) return;
  const known = Object.keys(QUERY_RANGES);
  const closest = closestName(key, known);
  throw new InvalidOptionsError(
    `${shown}: unknown amqp:// option '${key}'; ${closest ? `did you mean '${closest}'?` : `carrot reads ${known.join(", ")}`}`,
  );
}

function decode(value: string, shown: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // Not the decoder's error as cause: it quotes the text, which may be the password.
    throw new InvalidOptionsError(`${shown}: the ${what} is not valid percent-encoding`);
  }
}
