import type { Capabilities } from "@carrot/core/backend";
import { EXCHANGE_TYPES } from "@carrot/core/backend";

export function redisCapabilities(maxMessageSize: number): Capabilities {
  return Object.freeze({
    exchangeTypes: EXCHANGE_TYPES,
    persistence: true, // streams live in Redis, across connections (durability is the server's AOF/RDB setting)
    ordering: true,
    priority: false,
    messageTtl: true,
    deadLetter: true,
    maxLength: true,
    mandatory: true,
    exclusiveQueues: false,
    maxMessageSize,
    leases: true,
    messageGroups: false,
    delayedDelivery: true, // a due set in Redis, released by every connection's sweeper
  });
}
