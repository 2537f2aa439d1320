import { Deque } from "./deque.js";

/**
 * A FIFO that an async consumer can wait on: the buffer between a backend's
 * deliveries and `for await`. (Its size is bounded by the consumer's
 * prefetch, since the broker sends no more than that unacked.)
 */
export class AsyncQueue<T> {
  readonly #items = new Deque<T>();
  #waiter?: (item: T | undefined) => void;
  #closed = false;

  push(item: T): void {
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter(item);
    } else {
      this.#items.push(item);
    }
  }

  /** The next item, waiting for one; undefined once the queue is closed. */
  next(): Promise<T | undefined> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Ends the queue and returns the items no one took, in order. */
  close(): T[] {
    this.#closed = true;
    const left: T[] = [];
    for (let item = this.#items.shift(); item !== undefined; item = this.#items.shift())
      left.push(item);
    this.#waiter?.(undefined);
    this.#waiter = undefined;
    return left;
  }
}
