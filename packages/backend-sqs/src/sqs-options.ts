import type { SQSClientConfig } from "@aws-sdk/client-sqs";
import {
  type BackendOptions,
  CONNECT_TIMEOUT_RANGE,
  checkNumber,
  checkOptionNames,
  checkReconnectPolicy,
  closestName,
  HEARTBEAT_RANGE,
  InvalidOptionsError,
  type NumberRange,
  numberFromText,
  optionNames,
  parseBrokerUrl,
  type ReconnectPolicy,
  redactUrl,
} from "@carrot/core/backend";
import { MAX_DELAY_SECONDS } from "./delayed-delivery.js";
import { checkPrefix } from "./queue-names.js";

/**
 * How `new SqsBackend(options)` reaches SQS and shapes its queues; every
 * option has a default. Credentials are not among them: they come from the
 * AWS provider chain (or `clientConfig`).
 */
export interface SqsBackendOptions {
  /** AWS region; by default the SDK's (AWS_REGION, the profile). */
  region?: string;
  /** Endpoint URL, for emulators (fauxqs, LocalStack) and VPC endpoints. */
  endpoint?: string;
  /** Put before every SQS queue name (A-Z a-z 0-9 _ -); also limits the binding scan to these queues. */
  prefix?: string;
  /** Seconds a received message stays invisible before it is renewed or comes back; default 30. */
  visibilityTimeout?: number;
  /** Seconds a receive waits for messages (long polling, 0-20); default 20. */
  waitTimeSeconds?: number;
  /** MaximumMessageSize of the queues this backend creates, 1024 to 1 MiB; default 256 KiB. */
  maxMessageSize?: number;
  /** Milliseconds the binding table is cached before a rescan; default 2000. */
  bindingRefresh?: number;
  /**
   * Seconds a message may be kept alive by its lease, and kept invisible by
   * one hold of a delayed message (FIFO queues); default 43 200 (SQS's
   * 12-hour cap; holds ask a minute less). Every process on a queue should
   * use the same value: the delivery count of a delayed message reckons its
   * holds with it.
   */
  maxHold?: number;
  /**
   * The longest delay, in seconds, that a standard queue is given as SQS's
   * own `DelaySeconds` (1-900); a longer delay is the rest by holds (a copy
   * re-sent every `maxNativeDelay` seconds). Default 900, SQS's limit: lower
   * it only in tests, to exercise long delays in seconds.
   */
  maxNativeDelay?: number;
  /**
   * Seconds between probes of an idle connection (disconnect/reconnect
   * events); off by default. A request still unanswered two heartbeats
   * after what it waits for on purpose (15 s without heartbeat) is on a dead
   * connection, and fails.
   */
  heartbeat?: number;
  /** Milliseconds to reach SQS on connect; default 10 000. */
  connectTimeout?: number;
  /**
   * Backoff between retries of a receive that failed (SQS unreachable);
   * default 100 ms doubling to 30 s, never giving up. `false`: the first
   * failure stops the subscription's receives.
   */
  reconnect?: ReconnectPolicy | false;
  /** Passed to `new SQSClient(...)` as is (credentials provider, retry strategy, request handler...). */
  clientConfig?: SQSClientConfig;
}

// The module augmented below must be in the program: an augmentation alone does not load it.
import type {} from "@carrot/core";

declare module "@carrot/core" {
  /** The SQS backend's `transportOptions`, for `sqs://` URLs. */
  interface TransportOptionsByScheme {
    /** `transportOptions` of an sqs:// Connection: the SQSClient's config, passed to `new SQSClient(...)` as is. */
    sqs: SQSClientConfig;
  }
}

export type ResolvedSqsOptions = Required<
  Omit<SqsBackendOptions, "region" | "endpoint" | "heartbeat">
> &
  Pick<SqsBackendOptions, "region" | "endpoint" | "heartbeat">;

export const MAX_SQS_MESSAGE_SIZE = 1024 * 1024;

const OPTION_NAMES = optionNames<keyof SqsBackendOptions>({
  region: true,
  endpoint: true,
  prefix: true,
  visibilityTimeout: true,
  waitTimeSeconds: true,
  maxMessageSize: true,
  bindingRefresh: true,
  maxHold: true,
  maxNativeDelay: true,
  heartbeat: true,
  connectTimeout: true,
  reconnect: true,
  clientConfig: true,
});

/** The number options, given or in the URL, and the range of each. */
const NUMBER_RANGES = {
  visibilityTimeout: { min: 1, max: 43_200, unit: "seconds" },
  waitTimeSeconds: { min: 0, max: 20, unit: "seconds" },
  maxMessageSize: { min: 1024, max: MAX_SQS_MESSAGE_SIZE, unit: "bytes" },
  bindingRefresh: { min: 0, max: 3_600_000, unit: "milliseconds" },
  maxHold: { min: 1, max: 43_200, unit: "seconds" },
  maxNativeDelay: { min: 1, max: MAX_DELAY_SECONDS, unit: "seconds" },
} as const satisfies Record<string, NumberRange>;
type NumberName = keyof typeof NUMBER_RANGES;
const NUMBER_NAMES = Object.keys(NUMBER_RANGES) as NumberName[];
const URL_OPTION_NAMES = new Set(["region", "endpoint", "prefix", ...NUMBER_NAMES]);

export function resolveSqsOptions(options: SqsBackendOptions): ResolvedSqsOptions {
  checkOptionNames(options, OPTION_NAMES, "for the SQS backend");
  const number = (name: NumberName, fallback: number) =>
    checkNumber(`SQS option ${name}`, options[name], NUMBER_RANGES[name]) ?? fallback;
  return {
    region: options.region,
    endpoint: options.endpoint === undefined ? undefined : checkEndpoint(options.endpoint),
    prefix: checkPrefix(options.prefix ?? ""),
    visibilityTimeout: number("visibilityTimeout", 30),
    waitTimeSeconds: number("waitTimeSeconds", 20),
    maxMessageSize: number("maxMessageSize", 256 * 1024),
    bindingRefresh: number("bindingRefresh", 2000),
    maxHold: number("maxHold", 43_200),
    maxNativeDelay: number("maxNativeDelay", MAX_DELAY_SECONDS),
    heartbeat: checkNumber("SQS option heartbeat", options.heartbeat, HEARTBEAT_RANGE) || undefined,
    connectTimeout:
      checkNumber("SQS option connectTimeout", options.connectTimeout, CONNECT_TIMEOUT_RANGE) ??
      10_000,
    reconnect: checkReconnectPolicy(options.reconnect),
    clientConfig: options.clientConfig ?? {},
  };
}

/**
 * `sqs://[region]?endpoint=...&prefix=...&visibilityTimeout=...&waitTimeSeconds=...&maxMessageSize=...&bindingRefresh=...&maxHold=...&maxNativeDelay=...`
 * (`?region=` also works). Credentials never go in the URL: they come from
 * the AWS provider chain. `transportOptions` are the SQSClient's config.
 */
export function optionsFromBackendOptions(options: BackendOptions): SqsBackendOptions {
  const result: SqsBackendOptions = {
    connectTimeout: options.connectTimeout,
    heartbeat: options.heartbeat,
    reconnect: options.reconnect,
    clientConfig: options.transportOptions as SQSClientConfig,
  };
  if (options.url === undefined) return result;
  const shown = redactUrl(options.url);
  const url = parseBrokerUrl(options.url, shown, "e.g. sqs://eu-west-1?prefix=app-");
  if (url.username || url.password) {
    throw new InvalidOptionsError(
      `${shown} holds credentials: SQS credentials come from the AWS provider chain (environment, profile, role), never from the URL`,
    );
  }
  if (url.pathname !== "" && url.pathname !== "/") {
    throw new InvalidOptionsError(
      `${shown}: an sqs:// URL has no path; each Consumer and Publisher names its queue (?prefix= puts one before them all)`,
    );
  }
  const query = url.searchParams;
  for (const key of query.keys()) {
    if (!URL_OPTION_NAMES.has(key)) {
      const closest = closestName(key, URL_OPTION_NAMES);
      throw new InvalidOptionsError(
        `unknown sqs:// option '${key}'; ${closest ? `did you mean '${closest}'?` : `known: ${[...URL_OPTION_NAMES].join(", ")}`}`,
      );
    }
  }
  const region = query.get("region") ?? (regionOf(url, shown) || undefined);
  if (region !== undefined) result.region = region;
  const endpoint = query.get("endpoint");
  if (endpoint !== null) result.endpoint = endpoint;
  const prefix = query.get("prefix");
  if (prefix !== null) result.prefix = prefix;
  for (const key of NUMBER_NAMES) {
    const value = numberFromText(`sqs:// option ${key}`, query.get(key), NUMBER_RANGES[key]);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/**
 * The region an sqs:// URL names as its host. A host that is an address
 * (a port, an IP, localhost, a dotted name) is an endpoint written where
 * the region goes, which the SDK would take as a region and fail on at
 * connect with a puzzling error: refused here, showing the URL to write.
 */
function regionOf(url: URL, shown: string): string {
  const host = url.hostname;
  const isAddress =
    url.port !== "" || host === "localhost" || host.includes(".") || host.startsWith("[");
  if (!isAddress) return host;
  const aws = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  if (aws) {
    throw new InvalidOptionsError(
      `${shown}: '${host}' is the SQS endpoint of a region; write sqs://${aws[1]} and the SDK finds it`,
    );
  }
  const local = url.port !== "" || host === "localhost" || /^[\d.]+$|^\[/.test(host);
  const endpoint = `${local ? "http" : "https"}://${url.host}`;
  throw new InvalidOptionsError(
    `${shown}: '${url.host}' is a host${url.port ? " and port" : ""}, which is an endpoint, not a region; write sqs://<region>?endpoint=${endpoint} (e.g. sqs://us-east-1?endpoint=${endpoint})`,
  );
}

/** An endpoint is an http:// or https:// URL: the SDK reads a bare host:port as something else. */
function checkEndpoint(endpoint: string): string {
  if (/^https?:\/\//i.test(endpoint) && URL.canParse(endpoint)) return endpoint;
  // A bare host or host:port holds no secret, so it is shown as written.
  const bare = /^[\w.-]+(:\d+)?$/.test(endpoint);
  throw new InvalidOptionsError(
    `the SQS endpoint must be an http:// or https:// URL, got '${bare ? endpoint : redactUrl(endpoint)}'${bare ? `; write http://${endpoint}` : ""}`,
  );
}
