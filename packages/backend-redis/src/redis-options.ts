import type { BackendOptions } from "@carrot/core/backend";
import {
  backoffDelay,
  checkNumber,
  closestName,
  InvalidOptionsError,
  MAX_TIMER_MS,
  type NumberRange,
  numberFromText,
  parseBrokerUrl,
  redactUrl,
} from "@carrot/core/backend";
import type { ClusterOptions, RedisOptions } from "ioredis";
import { type ClusterTarget, clusterSeeds, isClusterUrl } from "./cluster-url.js";

/**
 * `transportOptions` of a redis:// (or rediss://, redis+cluster://)
 * Connection: carrot's settings (also taken as URL query parameters),
 * `cluster`, and ioredis's own options, passed on untouched.
 */
export interface RedisTransportOptions extends RedisOptions {
  /** Start of every key; default "carrot". */
  prefix?: string;
  /** Milliseconds an unacked delivery may go without keep-alive before another consumer takes it; default 30 000. */
  visibilityTimeout?: number;
  /** Milliseconds between a subscription's reclaim scans; default half of `visibilityTimeout`, at least 100. */
  claimInterval?: number;
  /** Largest body accepted, in bytes. */
  maxMessageSize?: number;
  /** Replicas that must have a publish before it is confirmed (Redis Cluster; default 1 there). */
  replicas?: number;
  /** A Redis Cluster: its seed nodes, and ioredis's ClusterOptions. */
  cluster?: ClusterOptions & {
    /** The nodes to discover the cluster from: "host:port", or a host and port; absent: the URL's. */
    nodes?: (string | ClusterSeedNode)[];
  };
}

/** A Redis Cluster node to discover the cluster from. */
export interface ClusterSeedNode {
  /** Its host name or IP address. */
  host: string;
  /** Its TCP port. */
  port: number;
}

// The module augmented below must be in the program: an augmentation alone does not load it.
import type {} from "@carrot/core";

declare module "@carrot/core" {
  /** The Redis backend's `transportOptions`, per URL scheme. */
  interface TransportOptionsByScheme {
    /** `transportOptions` of a redis:// Connection. */
    redis: RedisTransportOptions;
    /** `transportOptions` of a rediss:// (TLS) Connection. */
    rediss: RedisTransportOptions;
    /** `transportOptions` of a redis+cluster:// Connection. */
    "redis+cluster": RedisTransportOptions;
    /** `transportOptions` of a rediss+cluster:// (TLS) Connection. */
    "rediss+cluster": RedisTransportOptions;
  }
}

/** What this backend adds to Redis itself: names, the reclaim clock, limits. */
export interface RedisBackendSettings {
  /** Start of every key; default "carrot". */
  prefix: string;
  /** Milliseconds an unacked delivery may go without keep-alive before another consumer takes it. */
  visibilityTimeout: number;
  /** Milliseconds between a subscription's reclaim scans (XAUTOCLAIM). */
  claimInterval: number;
  /** Largest body accepted, in bytes. */
  maxMessageSize: number;
  /**
   * Milliseconds between liveness checks of each connection (0: none); one
   * silent for two of them is dropped and reconnected. From the connection's
   * `heartbeat` (seconds), default 30.
   */
  heartbeat: number;
  /**
   * Replicas that must have a publish (`WAIT`) before it is confirmed, on a
   * Redis Cluster: 1 by default there, so that a master killed right after
   * confirming loses nothing confirmed; 0 on one Redis (its durability is
   * its AOF setting), where it is not used.
   */
  replicas: number;
}

/** Everything a RedisBackend is built from, checked: what `resolveRedisOptions` makes of carrot's connection options. */
export interface ResolvedRedisOptions {
  /** carrot's own settings, from the URL's query or `transportOptions`. */
  settings: RedisBackendSettings;
  /** Options for every ioredis connection this backend opens. */
  redis: RedisOptions;
  /** Host as shown in events and errors, never with a password. */
  display: string;
  /** Milliseconds `connect()` may take before it fails with `ConnectTimeoutError`. */
  connectTimeout: number;
  /**
   * A Redis Cluster (`redis+cluster://`, or `transportOptions.cluster`): the
   * seed nodes and ioredis's Cluster options; undefined for one Redis (or Sentinel).
   */
  cluster?: ClusterTarget;
}

const SETTING_NAMES = [
  "prefix",
  "visibilityTimeout",
  "claimInterval",
  "maxMessageSize",
  "replicas",
] as const;
/** The number settings and their ranges: timers' milliseconds, and Redis's largest string (512 MiB). */
const SETTING_RANGES: Readonly<Record<string, NumberRange>> = {
  visibilityTimeout: { min: 1, max: MAX_TIMER_MS, unit: "milliseconds" },
  claimInterval: { min: 1, max: MAX_TIMER_MS, unit: "milliseconds" },
  maxMessageSize: { min: 1, max: 512 * 1024 * 1024, unit: "bytes" },
  replicas: { min: 0, max: 100, unit: "replicas" },
};
const PORT_RANGE: NumberRange = { min: 1, max: 65_535 };
// RabbitMQ 4's default, so that code tested on one backend fits the others.
const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
/** Seconds; a dead connection is noticed within two (redis-py checks health every 25 s). */
const DEFAULT_HEARTBEAT = 30;

/**
 * Turns carrot's connection options into ioredis options. The URL is parsed
 * here rather than by ioredis so that a bad one fails as InvalidOptionsError
 * naming the redacted URL, and so that query parameters carry our settings.
 */
export function resolveRedisOptions(options: BackendOptions): ResolvedRedisOptions {
  const clusterUrl = options.url !== undefined && isClusterUrl(options.url);
  const seeds = clusterUrl ? clusterSeeds(options.url as string) : undefined;
  const url = seeds ? checkedQuery(seeds.url) : parseUrl(options.url);
  const transport = { ...options.transportOptions };
  const clusterOption = transport.cluster;
  delete transport.cluster;
  const cluster =
    seeds || clusterOption !== undefined
      ? clusterTarget(options, seeds?.nodes, clusterOption)
      : undefined;
  if (!cluster && options.alternates.length > 0) {
    throw new InvalidOptionsError(
      "the redis backend does not fail over between URLs (alternates); use Redis Sentinel through transportOptions ({ sentinels, name }), or a Redis Cluster (redis+cluster://host:port,host:port)",
    );
  }
  const raw: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    raw[name] = url?.searchParams.get(name) ?? transport[name];
    delete transport[name];
  }
  const visibilityTimeout = setting("visibilityTimeout", raw.visibilityTimeout, 30_000);
  const settings: RedisBackendSettings = {
    prefix: raw.prefix === undefined ? "carrot" : String(raw.prefix),
    visibilityTimeout,
    claimInterval: setting(
      "claimInterval",
      raw.claimInterval,
      Math.max(100, Math.floor(visibilityTimeout / 2)),
    ),
    maxMessageSize: setting("maxMessageSize", raw.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE),
    heartbeat: (options.heartbeat ?? DEFAULT_HEARTBEAT) * 1000,
    replicas: setting("replicas", raw.replicas, cluster ? 1 : 0),
  };
  if (settings.prefix === "" || /[{}]/.test(settings.prefix)) {
    throw new InvalidOptionsError(
      `redis prefix must be non-empty and hold no '{' or '}' (it builds hash tags), got '${settings.prefix}'`,
    );
  }

  const host = url?.hostname.replace(/^\[|\]$/g, "") || options.hostname || "127.0.0.1";
  const port = url?.port
    ? checkNumber(`the port of ${redactUrl(url.href)}`, Number(url.port), PORT_RANGE)
    : (options.port ?? 6379);
  const db = url ? database(url) : 0;
  if (cluster && db !== 0) {
    throw new InvalidOptionsError(
      `a Redis Cluster has database 0 only, got /${db} in ${cluster.display}`,
    );
  }
  const tls = url?.protocol === "rediss:" || options.tls ? tlsOptions(options.tls) : undefined;
  const policy = options.reconnect;
  const redis: RedisOptions = {
    host,
    port,
    db,
    username: url?.username ? decodeURIComponent(url.username) : options.userid,
    password: url?.password ? decodeURIComponent(url.password) : options.password,
    tls,
    connectTimeout: options.connectTimeout,
    connectionName: options.connectionName,
    lazyConnect: true,
    retryStrategy: policy
      ? (times) =>
          times > policy.maxAttempts ? null : Math.max(1, backoffDelay(policy, times - 1))
      : () => null,
    ...transport,
  };
  if (cluster) {
    // Every node the cluster names is reached with the URL's credentials and TLS.
    cluster.nodes = cluster.nodes.length > 0 ? cluster.nodes : [{ host, port }];
    cluster.display = clusterDisplay(cluster.nodes, Boolean(tls));
  }
  return {
    settings,
    redis,
    display: cluster ? cluster.display : displayName(redis, Boolean(tls)),
    connectTimeout: options.connectTimeout,
    cluster,
  };
}

/**
 * The cluster's seed nodes: the URL's, then each alternate's (`redis+cluster://`
 * URLs too), then `transportOptions.cluster.nodes`; the rest of
 * `transportOptions.cluster` is ioredis's ClusterOptions.
 */
function clusterTarget(
  options: BackendOptions,
  urlNodes: ClusterTarget["nodes"] | undefined,
  option: unknown,
): ClusterTarget {
  if (option !== undefined && (typeof option !== "object" || option === null)) {
    throw new InvalidOptionsError(
      "transportOptions.cluster is an object: { nodes: ['host:port', ...], ...ioredis ClusterOptions }",
    );
  }
  const { nodes: optionNodes, ...clusterOptions } = (option ?? {}) as {
    nodes?: unknown;
  } & ClusterOptions;
  const nodes = [...(urlNodes ?? [])];
  for (const alternate of options.alternates) {
    if (!isClusterUrl(alternate)) {
      throw new InvalidOptionsError(
        `the alternates of a Redis Cluster connection are more seed nodes, as redis+cluster:// URLs; got '${redactUrl(alternate)}'`,
      );
    }
    nodes.push(...clusterSeeds(alternate).nodes);
  }
  if (optionNodes !== undefined) {
    if (!Array.isArray(optionNodes)) {
      throw new InvalidOptionsError(
        "transportOptions.cluster.nodes is an array of 'host:port' strings or { host, port } objects",
      );
    }
    for (const node of optionNodes) nodes.push(seedNode(node));
  }
  return { nodes, options: clusterOptions, display: "" };
}

/** One seed node of `transportOptions.cluster.nodes`. */
function seedNode(node: unknown): { host: string; port: number } {
  if (typeof node === "string") {
    const seeds = clusterSeeds(`redis+cluster://${node}`).nodes;
    if (seeds.length === 1) return seeds[0] as { host: string; port: number };
  } else if (typeof node === "object" && node !== null) {
    const { host, port } = node as { host?: unknown; port?: unknown };
    if (typeof host === "string" && host !== "") {
      return {
        host,
        port: checkNumber("a cluster node's port", port as number | undefined, PORT_RANGE) ?? 6379,
      };
    }
  }
  throw new InvalidOptionsError(
    `a cluster node is 'host:port' or { host, port }, got ${JSON.stringify(node)}`,
  );
}

/** A cluster as errors and events name it: its seed nodes, never credentials. */
function clusterDisplay(nodes: readonly { host: string; port: number }[], tls: boolean): string {
  const shown = nodes.map(({ host, port }) => `${host.includes(":") ? `[${host}]` : host}:${port}`);
  return `${tls ? "rediss" : "redis"}+cluster://${shown.join(",")}`;
}

/**
 * What errors and events call the connection, never with a password: the
 * server's address, or with Sentinel (ioredis's `sentinels` and `name`) the
 * Sentinels asked and the master's name, since the URL's address is not used.
 */
function displayName(redis: RedisOptions, tls: boolean): string {
  const address = (host: string, port: number) =>
    `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const scheme = tls ? "rediss" : "redis";
  const { sentinels, name, db } = redis;
  if (sentinels?.length && name) {
    const asked = sentinels.map((s) => address(s.host ?? "127.0.0.1", s.port ?? 26379));
    return `${scheme}+sentinel://${asked.join(",")}/${name}/${db}`;
  }
  return `${scheme}://${address(redis.host as string, redis.port as number)}/${db}`;
}

function parseUrl(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined;
  const url = parseBrokerUrl(text, redactUrl(text), "redis://[user:password@]host:6379/0");
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new InvalidOptionsError(
      `the redis backend serves redis:// and rediss:// URLs, got '${redactUrl(text)}'`,
    );
  }
  return checkedQuery(url);
}

function checkedQuery(url: URL): URL {
  for (const key of url.searchParams.keys()) checkQueryName(key, url);
  return url;
}

/** Query parameters are this backend's settings; any other would be ignored without a word. */
function checkQueryName(key: string, url: URL): void {
  if ((SETTING_NAMES as readonly string[]).includes(key)) return;
  const shown = redactUrl(url.href);
  if (key === "db" || key === "database") {
    throw new InvalidOptionsError(
      `${shown}: the database is the URL's path, not ?${key}=; write redis://host:6379/2`,
    );
  }
  const closest = closestName(key, SETTING_NAMES);
  throw new InvalidOptionsError(
    `unknown redis:// option '${key}' in ${shown}; ${closest ? `did you mean '${closest}'?` : `known: ${SETTING_NAMES.join(", ")}`}`,
  );
}

function database(url: URL): number {
  const path = url.pathname.replace(/^\//, "");
  if (path === "") return 0;
  const db = Number(path);
  if (!/^\d+$/.test(path) || !Number.isSafeInteger(db)) {
    throw new InvalidOptionsError(
      `the path of a redis URL is the database number, a whole number >= 0, got '/${path}' in '${redactUrl(url.href)}'; write e.g. redis://host:6379/0`,
    );
  }
  return db;
}

function tlsOptions(tls: BackendOptions["tls"]): Record<string, unknown> {
  return typeof tls === "object" ? tls : {};
}

/** A number setting from the URL's query (text) or `transportOptions` (a number), in its range. */
function setting(name: string, value: unknown, fallback: number): number {
  const range = SETTING_RANGES[name] as NumberRange;
  const checked =
    typeof value === "string"
      ? numberFromText(`redis option ${name}`, value, range)
      : checkNumber(`redis option ${name}`, value as number | undefined, range);
  return checked ?? fallback;
}
