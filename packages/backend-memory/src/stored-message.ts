import type { RawMessage } from "@carrot/core/backend";

/** A message on a memory queue: one copy per queue it was routed to. */
export interface StoredMessage {
  message: RawMessage;
  exchange: string;
  routingKey: string;
  redelivered: boolean;
  /** Epoch milliseconds from which it is expired instead of delivered (core's `isExpired`). */
  expiresAt?: number;
}
