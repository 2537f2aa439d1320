import { Deque } from "@carrot/core/backend";
import type { StoredMessage } from "./stored-message.js";

/**
 * The messages of a queue that wait for a consumer. Without priorities this
 * is one FIFO; a queue with `maxPriority` keeps one FIFO per level and serves
 * the highest level first (AMQP's order: a higher number is delivered sooner).
 */
export class ReadyMessages {
  readonly #levels: Deque<StoredMessage>[];
  #length = 0;

  constructor(maxPriority: number | undefined) {
    this.#levels = Array.from({ length: (maxPriority ?? 0) + 1 }, () => new Deque<StoredMessage>());
  }

  get length(): number {
    return this.#length;
  }

  /** Appends a new message behind the others of its priority. */
  push(stored: StoredMessage): void {
    this.#level(stored).push(stored);
    this.#length++;
  }

  /** Puts a requeued message back at the front of its priority. */
  unshift(stored: StoredMessage): void {
    this.#level(stored).unshift(stored);
    this.#length++;
  }

  peek(): StoredMessage | undefined {
    return this.#highest()?.peek();
  }

  shift(): StoredMessage | undefined {
    const stored = this.#highest()?.shift();
    if (stored) this.#length--;
    return stored;
  }

  clear(): number {
    const count = this.#length;
    for (const level of this.#levels) level.clear();
    this.#length = 0;
    return count;
  }

  #level(stored: StoredMessage): Deque<StoredMessage> {
    const top = this.#levels.length - 1;
    // As in RabbitMQ, priorities above the queue's maximum count as the maximum.
    const priority = Math.min(stored.message.properties.priority ?? 0, top);
    return this.#levels[priority]!;
  }

  #highest(): Deque<StoredMessage> | undefined {
    if (this.#length === 0) return undefined;
    for (let i = this.#levels.length - 1; i >= 0; i--) {
      const level = this.#levels[i]!;
      if (level.length > 0) return level;
    }
    return undefined;
  }
}
