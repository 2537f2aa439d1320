import { type Capabilities, EXCHANGE_TYPES, QUEUE_TYPES } from "@carrot/core/backend";

const MiB = 1024 * 1024;

/**
 * RabbitMQ's default `max_message_size`: 128 MiB up to 3.x, 16 MiB from 4.0.
 * The configured value cannot be read over AMQP, so it comes from the
 * server's version unless `transportOptions.maxMessageSize` says otherwise.
 */
export function defaultMaxMessageSize(serverVersion: string | undefined): number {
  const major = Number.parseInt(serverVersion ?? "", 10);
  return Number.isInteger(major) && major < 4 ? 128 * MiB : 16 * MiB;
}

export function amqpCapabilities(maxMessageSize: number): Capabilities {
  return Object.freeze({
    exchangeTypes: EXCHANGE_TYPES,
    persistence: true,
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
    queueTypes: QUEUE_TYPES,
    // Per-level delay queues that dead-letter to the target exchange: see delayed-publish.ts.
    delayedDelivery: true,
  });
}
