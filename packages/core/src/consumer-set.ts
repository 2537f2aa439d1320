import type { Connection } from "./connection.js";
import {
  Consumer,
  type ConsumerCallback,
  type ConsumerOptions,
  type WaitOptions,
} from "./consumer.js";
import { mergeIterators } from "./merged-iterator.js";
import type { Message } from "./message.js";
import { MessageBudget } from "./message-budget.js";

/**
 * Several consumers consumed as one (carrot's ConsumerSet), on one
 * connection or on several, of any backends: callbacks registered on the set
 * run for every queue, `wait()` consumes them all until cancelled, closed,
 * aborted, or `limit` messages in total, and `for await` reads them all in
 * one loop.
 *
 * Two forms: `new ConsumerSet(connection, { consumers, queues })` makes the
 * consumers of `queues` on that connection; `new ConsumerSet([a, b, c])`
 * takes consumers already made, each on its own connection.
 */
export class ConsumerSet<T = unknown> implements AsyncIterable<Message<T>> {
  /** The consumers of the set, in the order given then added. */
  readonly consumers: Consumer<T>[];
  /** The connection of the first form, that the consumers of `queues` were made on; undefined in the second. */
  readonly connection?: Connection;

  /** @param consumers the consumers, of any connections */
  constructor(consumers: readonly Consumer<T>[]);
  /**
   * @param connection the connection the consumers made from `queues` use
   * @param options `consumers` already made (of any connections), and
   * `queues`: the options of further consumers to make on `connection`
   */
  constructor(
    connection: Connection,
    options?: { consumers?: readonly Consumer<T>[]; queues?: ConsumerOptions<T>[] },
  );
  constructor(
    connectionOrConsumers: Connection | readonly Consumer<T>[],
    {
      consumers = [],
      queues = [],
    }: { consumers?: readonly Consumer<T>[]; queues?: ConsumerOptions<T>[] } = {},
  ) {
    if (Array.isArray(connectionOrConsumers)) {
      this.consumers = [...connectionOrConsumers];
      return;
    }
    const connection = connectionOrConsumers as Connection;
    this.connection = connection;
    this.consumers = [
      ...consumers,
      ...queues.map((options) => new Consumer<T>(connection, options)),
    ];
  }

  /** Adds a consumer, of any connection; callbacks registered on the set before do not apply to it. */
  add(consumer: Consumer<T>): this {
    this.consumers.push(consumer);
    return this;
  }

  /** Registers the callback on every consumer of the set. */
  registerCallback(callback: ConsumerCallback<T>): this {
    for (const consumer of this.consumers) consumer.registerCallback(callback);
    return this;
  }

  /**
   * Consumes every queue until `cancel()`, `close()`, the signal, or `limit`
   * messages in total. Rejects as soon as one consumer's wait rejects (its
   * queue was deleted), once every other consumer has stopped.
   */
  async wait({ limit, signal }: WaitOptions = {}): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    // One budget for all: together they start exactly `limit` messages.
    const budget = new MessageBudget(limit);
    let handled = 0;
    const unsubscribe = this.consumers.map((consumer) =>
      consumer.onHandled(() => {
        if (limit !== undefined && ++handled >= limit) stop.abort();
      }),
    );
    try {
      const waits = this.consumers.map((consumer) =>
        // One failing ends the set's wait: the others stop too.
        consumer.waitSharing(budget, { signal: stop.signal }).catch((error: unknown) => {
          stop.abort();
          throw error;
        }),
      );
      const results = await Promise.allSettled(waits);
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    } finally {
      for (const off of unsubscribe) off();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** `for await (const message of set)`: the same as `iterate()` without options. */
  [Symbol.asyncIterator](): AsyncIterator<Message<T>> {
    return this.iterate();
  }

  /**
   * Reads every queue in one loop: each message as its consumer's iterator
   * yields it (decoded; undecodable ones are rejected and reported on that
   * consumer's "error"), in the order they come from all. Leaving the loop,
   * or the signal, cancels every consumer and hands unread messages back.
   */
  async *iterate({
    signal,
  }: {
    signal?: AbortSignal;
  } = {}): AsyncGenerator<Message<T>, void, undefined> {
    const iterators = this.consumers.map((consumer) => consumer.iterate({ signal }));
    try {
      yield* mergeIterators(iterators);
    } finally {
      // Cancelling first ends each consumer's loop, which its iterator's return() then waits for.
      await this.cancel();
      await Promise.allSettled(iterators.map((iterator) => iterator.return()));
    }
  }

  /** Cancels every consumer: no new deliveries; started callbacks finish. */
  async cancel(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.cancel()));
  }

  /** Closes every consumer. The connections stay open. */
  async close(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.close()));
  }
}
