import type { RawMessage } from "@carrot/core/backend";

/** A message on a memory queue: one copy per queue it was routed to. */
export interface StoredMessage {
  message: RawMessage;
  exchange: string;
  routingKey: string;
  /**
   * How many times this copy was handed out (`DeliveryInfo.deliveryCount`
   * counts the delivery it is on). It goes with the copy through requeues
   * and closed connections; more than one delivery is what `redelivered` says.
   */
  deliveries: number;
  /** Epoch milliseconds from which it is expired instead of delivered (core's `isExpired`). */
  expiresAt?: number;
}
