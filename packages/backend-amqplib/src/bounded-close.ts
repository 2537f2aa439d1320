import { settledWithin } from "@carrot/core/backend";

/**
 * Closes an amqplib channel or connection without waiting forever: in amqplib
 * 2.3.1, `close()` never settles when the socket dies before the broker's
 * close-ok arrives, and a reconnect that awaited it would stop for good.
 * After `ms` the close is abandoned (the dead socket has released it anyway).
 */
export function boundedClose(
  closable: { close(): Promise<void> } | undefined,
  ms = 2000,
): Promise<void> {
  if (!closable) return Promise.resolve();
  let closing: Promise<void>;
  try {
    closing = closable.close();
  } catch {
    return Promise.resolve(); // already closed
  }
  return settledWithin(closing, ms);
}
