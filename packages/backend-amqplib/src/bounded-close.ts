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
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms).unref();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      closable.close().then(done, done);
    } catch {
      done(); // already closed
    }
  });
}
