import { classDefaults } from "./class-defaults.js";
import { closestName } from "./closest-name.js";
import type { ConnectionOptions } from "./connection-options.js";
import type { ConsumerOptions } from "./consumer.js";
import type { QueueArguments, ReconnectPolicy } from "./contract.js";
import { InvalidOptionsError } from "./errors.js";
import type { MessageRetryOptions } from "./message.js";
import type { PublisherOptions, SendOptions } from "./publisher.js";
import type { RetryBackoff } from "./retry-backoff.js";
import type { RetryPolicy } from "./retry-policy.js";
import type { TelemetryOptions } from "./telemetry/telemetry-options.js";

/**
 * The names an options object takes. `K` is its interface's keys: the
 * compiler then refuses a record that lacks one or adds one, so the list
 * cannot drift from the interface.
 */
export function optionNames<K extends string>(names: Record<K, true>): ReadonlySet<string> {
  return new Set(Object.keys(names));
}

/**
 * Refuses an options object holding a name not in `names` (a typo, another
 * client's spelling), which would otherwise be ignored without a word:
 * InvalidOptionsError naming it and the closest valid name. `where` ends the
 * phrase "unknown option 'x' ...": "for a Consumer", "in reconnect". It only
 * walks the keys given, so it costs next to nothing per send.
 */
export function checkOptionNames(options: object, names: ReadonlySet<string>, where: string): void {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionsError(
      `the options ${where} must be an object, got ${options === null ? "null" : typeof options}`,
    );
  }
  for (const key in options) {
    if (!names.has(key)) throw unknownOption(key, names, where);
  }
}

/**
 * A Publisher's or Consumer's options: the static defaults of its class and
 * its ancestors, under those given to the constructor. Both are checked, so
 * that a misspelt name is reported where it was written.
 */
export function classOptions<O extends object>(
  ctor: Function,
  options: O,
  names: ReadonlySet<string>,
  kind: string,
): O {
  const defaults = classDefaults<O>(ctor);
  checkOptionNames(
    defaults,
    names,
    `in the static defaults of ${ctor.name || `a ${kind} subclass`}`,
  );
  checkOptionNames(options, names, `for a ${kind}`);
  return { ...defaults, ...options };
}

function unknownOption(
  key: string,
  names: ReadonlySet<string>,
  where: string,
): InvalidOptionsError {
  const closest = closestName(key, names);
  const hint = closest ? `did you mean '${closest}'?` : `the options are: ${[...names].join(", ")}`;
  return new InvalidOptionsError(`unknown option ${quoted(key)} ${where}; ${hint}`);
}

/** A key as the message shows it: as written if it looks like a name, else escaped and cut short. */
function quoted(key: string): string {
  return /^[\w$.-]{1,64}$/.test(key) ? `'${key}'` : JSON.stringify(key.slice(0, 64));
}

export const CONNECTION_OPTION_NAMES = optionNames<keyof ConnectionOptions>({
  url: true,
  hostname: true,
  port: true,
  userid: true,
  password: true,
  vhost: true,
  backend: true,
  alternates: true,
  connectTimeout: true,
  heartbeat: true,
  tls: true,
  reconnect: true,
  connectionName: true,
  transportOptions: true,
  telemetry: true,
  logger: true,
});

export const TELEMETRY_OPTION_NAMES = optionNames<keyof TelemetryOptions>({
  tracerProvider: true,
  meterProvider: true,
});

export const RECONNECT_POLICY_NAMES = optionNames<keyof ReconnectPolicy>({
  initialDelay: true,
  maxDelay: true,
  factor: true,
  maxAttempts: true,
});

export const CONSUMER_OPTION_NAMES = optionNames<keyof ConsumerOptions>({
  queue: true,
  exchange: true,
  exchangeType: true,
  routingKey: true,
  bindingArguments: true,
  durable: true,
  exclusive: true,
  autoDelete: true,
  exchangeAutoDelete: true,
  passive: true,
  declare: true,
  noAck: true,
  prefetchCount: true,
  maxDecompressedSize: true,
  accept: true,
  queueArguments: true,
  schema: true,
  retry: true,
  consumerTag: true,
});

export const RETRY_POLICY_NAMES = optionNames<keyof RetryPolicy>({
  attempts: true,
  backoff: true,
  exhausted: true,
});

export const RETRY_BACKOFF_NAMES = optionNames<keyof RetryBackoff>({
  initial: true,
  factor: true,
  max: true,
  jitter: true,
});

export const MESSAGE_RETRY_NAMES = optionNames<keyof MessageRetryOptions>({
  delay: true,
});

/** The carrot-named queue arguments; `x-` names are the backend's and pass unchecked. */
export const QUEUE_ARGUMENT_NAMES = optionNames<Exclude<keyof QueueArguments, `x-${string}`>>({
  deadLetterExchange: true,
  deadLetterRoutingKey: true,
  messageTtl: true,
  maxLength: true,
  maxPriority: true,
  queueType: true,
  deliveryLimit: true,
  initialGroupSize: true,
});

export const PUBLISHER_OPTION_NAMES = optionNames<keyof PublisherOptions>({
  exchange: true,
  exchangeType: true,
  routingKey: true,
  durable: true,
  autoDelete: true,
  deliveryMode: true,
  serializer: true,
  compression: true,
  schema: true,
  mandatory: true,
  passive: true,
  declare: true,
  headers: true,
  sendTimeout: true,
  maxInFlight: true,
});

export const SEND_OPTION_NAMES = optionNames<keyof SendOptions>({
  messageId: true,
  correlationId: true,
  replyTo: true,
  priority: true,
  expiration: true,
  timestamp: true,
  type: true,
  appId: true,
  userId: true,
  deliveryMode: true,
  routingKey: true,
  serializer: true,
  compression: true,
  contentType: true,
  contentEncoding: true,
  headers: true,
  mandatory: true,
  groupId: true,
  deduplicationId: true,
  delay: true,
  signal: true,
});
