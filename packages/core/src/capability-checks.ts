import type {
  Backend,
  Capabilities,
  ExchangeDeclaration,
  PublishRequest,
  QueueDeclaration,
} from "./contract.js";
import { MessageTooLargeError, UnsupportedFeatureError } from "./errors.js";

/**
 * A backend that lacks a feature refuses it out loud instead of ignoring it:
 * a priority queue that does not prioritise, or a TTL that never expires,
 * would be a silent lie. Core checks once here, for every backend.
 */
export function assertExchangeSupported(
  backend: string,
  caps: Capabilities,
  exchange: ExchangeDeclaration,
): void {
  if (!caps.exchangeTypes.includes(exchange.type)) {
    refuse(
      backend,
      `${exchange.type} exchanges ('${exchange.name}')`,
      `it routes ${caps.exchangeTypes.join(", ")}`,
    );
  }
}

export function assertQueueSupported(
  backend: string,
  caps: Capabilities,
  queue: QueueDeclaration,
): void {
  const args = queue.arguments;
  if (args.maxPriority !== undefined && !caps.priority)
    refuse(backend, `priority queues (maxPriority on '${queue.name}')`);
  if (args.messageTtl !== undefined && !caps.messageTtl)
    refuse(backend, `message TTL (messageTtl on '${queue.name}')`);
  if (args.deadLetterExchange !== undefined && !caps.deadLetter)
    refuse(backend, `dead-lettering (deadLetterExchange on '${queue.name}')`);
  if (args.maxLength !== undefined && !caps.maxLength)
    refuse(backend, `length-limited queues (maxLength on '${queue.name}')`);
  if (queue.exclusive && !caps.exclusiveQueues)
    refuse(backend, `exclusive queues ('${queue.name}')`);
  const type = args.queueType;
  if (type !== undefined && type !== "classic" && !(caps.queueTypes ?? []).includes(type))
    refuse(backend, `${type} queues (queueType on '${queue.name}')`);
}

/** The request fields that need `messageGroups`: one array for every publish, not one made per call. */
const GROUP_IDS = ["groupId", "deduplicationId"] as const;

export function assertPublishSupported(
  backend: string,
  caps: Capabilities,
  request: PublishRequest,
): void {
  if (request.mandatory && !caps.mandatory)
    refuse(backend, "mandatory sends (unroutable detection)");
  if (request.message.properties.expiration !== undefined && !caps.messageTtl)
    refuse(backend, "per-message expiration");
  for (const id of GROUP_IDS) {
    if (request[id] !== undefined && !caps.messageGroups)
      refuse(backend, `message groups and deduplication (${id} '${request[id]}')`);
  }
  if (request.delay !== undefined && !caps.delayedDelivery)
    refuse(backend, `delayed delivery (a delay of ${request.delay} ms)`);
}

/**
 * Everything core checks before a publish, whoever sends it (a Publisher,
 * the failure policy): the features it needs, and its size against the
 * backend's `maxMessageSize` (`MessageTooLargeError`, nothing sent).
 */
export function assertPublishable(backend: Backend, request: PublishRequest): void {
  const caps = backend.capabilities;
  assertPublishSupported(backend.name, caps, request);
  const size = backend.measure ? backend.measure(request.message) : request.message.body.byteLength;
  if (size > caps.maxMessageSize) {
    throw new MessageTooLargeError(
      `the message is ${size} bytes and the ${backend.name} backend takes at most ${caps.maxMessageSize}; nothing was sent. Compress it, or send a reference to the data instead`,
    );
  }
}

function refuse(backend: string, feature: string, detail?: string): never {
  throw new UnsupportedFeatureError(
    `the ${backend} backend does not support ${feature}${detail ? `: ${detail}` : ""}`,
  );
}
