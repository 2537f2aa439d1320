import { type Capabilities, EXCHANGE_TYPES } from "@carrot/core/backend";

/**
 * What carrot on SQS can do. Exchanges of every type are routed virtually.
 * Missing: order on standard queues (FIFO queues keep it per group, but the
 * capability is for the backend as a whole), priorities, per-message TTL (SQS
 * only has a retention period, and expired messages are not dead-lettered),
 * length limits, `mandatory` (routing reads a cached table, so "no queue
 * bound" may be stale) and exclusive queues (SQS has no connections).
 * `messageGroups`: `groupId` and `deduplicationId` become MessageGroupId and
 * MessageDeduplicationId (see fifo-ids.ts); standard queues take the group
 * (fair queues) and refuse the deduplication id. `delayedDelivery`: SQS's
 * `DelaySeconds`, and holds past what it takes (delayed-delivery.ts).
 */
export function sqsCapabilities(maxMessageSize: number): Capabilities {
  return Object.freeze({
    exchangeTypes: EXCHANGE_TYPES,
    persistence: true,
    ordering: false,
    priority: false,
    messageTtl: false,
    deadLetter: true,
    maxLength: false,
    mandatory: false,
    exclusiveQueues: false,
    maxMessageSize,
    leases: true,
    messageGroups: true,
    delayedDelivery: true,
  });
}
