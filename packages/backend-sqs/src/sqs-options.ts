import type { SQSClientConfig } from "@aws-sdk/client-sqs";
import {
  type BackendOptions,
  DEFAULT_RECONNECT_POLICY,
  InvalidOptionsError,
  type ReconnectPolicy,
  redactUrl,
} from "@carrot/core/backend";
import { checkPrefix } from "./queue-names.js";

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
  /** Seconds a message may be kept alive by its lease; default 43 200 (SQS's 12-hour cap). */
  maxHold?: number;
  /**
   * Seconds between probes of an idle connection (disconnect/reconnect
   * events); off by default. A request still unanswered two heartbeats
   * after what it waits for on purpose (15 s without heartbeat) is on a dead
   * connection, and fails.
   */
  heartbeat?: number;
  /** Milliseconds to reach SQS on connect; default 10 000. */
  connectTimeout?: number;
  reconnect?: ReconnectPolicy | false;
  /** Passed to `new SQSClient(...)` as is (credentials provider, retry strategy, request handler...). */
  clientConfig?: SQSClientConfig;
}

export type ResolvedSqsOptions = Required<
  Omit<SqsBackendOptions, "region" | "endpoint" | "heartbeat">
> &
  Pick<SqsBackendOptions, "region" | "endpoint" | "heartbeat">;

export const MAX_SQS_MESSAGE_SIZE = 1024 * 1024;

export function resolveSqsOptions(options: SqsBackendOptions): ResolvedSqsOptions {
  return {
    region: options.region,
    endpoint: options.endpoint,
    prefix: checkPrefix(options.prefix ?? ""),
    visibilityTimeout: integer("visibilityTimeout", options.visibilityTimeout ?? 30, 1, 43_200),
    waitTimeSeconds: integer("waitTimeSeconds", options.waitTimeSeconds ?? 20, 0, 20),
    maxMessageSize: integer(
      "maxMessageSize",
      options.maxMessageSize ?? 256 * 1024,
      1024,
      MAX_SQS_MESSAGE_SIZE,
    ),
    bindingRefresh: integer("bindingRefresh", options.bindingRefresh ?? 2000, 0, 3_600_000),
    maxHold: integer("maxHold", options.maxHold ?? 43_200, 1, 43_200),
    heartbeat: options.heartbeat || undefined,
    connectTimeout: options.connectTimeout ?? 10_000,
    reconnect: options.reconnect ?? DEFAULT_RECONNECT_POLICY,
    clientConfig: options.clientConfig ?? {},
  };
}

/**
 * `sqs://[region]?endpoint=...&prefix=...&visibilityTimeout=...&waitTimeSeconds=...&maxMessageSize=...&bindingRefresh=...&maxHold=...`
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
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (error) {
    throw new InvalidOptionsError(
      `${redactUrl(options.url)} is not a valid URL; expected e.g. sqs://eu-west-1?prefix=app-`,
      { cause: error },
    );
  }
  if (url.username || url.password) {
    throw new InvalidOptionsError(
      `${redactUrl(options.url)} holds credentials: SQS credentials come from the AWS provider chain (environment, profile, role), never from the URL`,
    );
  }
  const query = url.searchParams;
  const known = new Set([
    "region",
    "endpoint",
    "prefix",
    "visibilityTimeout",
    "waitTimeSeconds",
    "maxMessageSize",
    "bindingRefresh",
    "maxHold",
  ]);
  for (const key of query.keys()) {
    if (!known.has(key))
      throw new InvalidOptionsError(
        `unknown sqs:// option '${key}'; known: ${[...known].join(", ")}`,
      );
  }
  const region = query.get("region") ?? (url.hostname || undefined);
  if (region !== undefined) result.region = region;
  const endpoint = query.get("endpoint");
  if (endpoint !== null) result.endpoint = endpoint;
  const prefix = query.get("prefix");
  if (prefix !== null) result.prefix = prefix;
  for (const key of [
    "visibilityTimeout",
    "waitTimeSeconds",
    "maxMessageSize",
    "bindingRefresh",
    "maxHold",
  ] as const) {
    const value = query.get(key);
    if (value !== null) result[key] = Number(value);
  }
  return result;
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionsError(
      `SQS option ${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
