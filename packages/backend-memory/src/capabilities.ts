import { type Capabilities, EXCHANGE_TYPES } from "@carrot/core/backend";

/** RabbitMQ 4's default max_message_size, so that code tested on memory fits RabbitMQ. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

export function memoryCapabilities(maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE): Capabilities {
  return Object.freeze({
    exchangeTypes: EXCHANGE_TYPES,
    persistence: true, // queues live as long as the process, across connections
    ordering: true,
    priority: true,
    messageTtl: true,
    deadLetter: true,
    maxLength: true,
    mandatory: true,
    exclusiveQueues: true,
    maxMessageSize,
    leases: false,
    messageGroups: false,
    delayedDelivery: true, // held by the broker, one timer for the earliest (delayed-messages.ts)
  });
}
