import type { Connection } from "./connection.js";
import {
  Consumer,
  type ConsumerCallback,
  type ConsumerOptions,
  type WaitOptions,
} from "./consumer.js";

/**
 * Several consumers consumed as one (carrot's ConsumerSet): callbacks
 * registered on the set run for every queue, and `wait()` consumes them all
 * until cancelled, closed, aborted, or `limit` messages in total.
 */
export class ConsumerSet<T = unknown> {
  /** The consumers of the set, in the order given then added. */
  readonly consumers: Consumer<T>[];

  /**
   * @param connection the connection the consumers made from `queues` use
   * @param options `consumers` already made, and `queues`: the options of
   * further consumers to make on `connection`
   */
  constructor(
    readonly connection: Connection,
    {
      consumers = [],
      queues = [],
    }: { consumers?: Consumer<T>[]; queues?: ConsumerOptions<T>[] } = {},
  ) {
    this.consumers = [
      ...consumers,
      ...queues.map((options) => new Consumer<T>(connection, options)),
    ];
  }

  /** Adds a consumer; callbacks registered on the set before do not apply to it. */
  add(consumer: Consumer<T>): this {
    this.consumers.push(consumer);
    return this;
  }

  /** Registers the callback on every consumer of the set. */
  registerCallback(callback: ConsumerCallback<T>): this {
    for (const consumer of this.consumers) consumer.registerCallback(callback);
    return this;
  }

  /** Consumes every queue until `cancel()`, `close()`, the signal, or `limit` messages in total. */
  async wait({ limit, signal }: WaitOptions = {}): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let handled = 0;
    const unsubscribe = this.consumers.map((consumer) =>
      consumer.onHandled(() => {
        if (limit !== undefined && ++handled >= limit) stop.abort();
      }),
    );
    try {
      await Promise.all(this.consumers.map((consumer) => consumer.wait({ signal: stop.signal })));
    } finally {
      for (const off of unsubscribe) off();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Cancels every consumer: no new deliveries; started callbacks finish. */
  async cancel(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.cancel()));
  }

  /** Closes every consumer. The connection stays open. */
  async close(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.close()));
  }
}
