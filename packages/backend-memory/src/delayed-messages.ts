import type { RawMessage } from "@carrot/core/backend";
import { type Due, DueHeap } from "./due-heap.js";

/** setTimeout's longest wait (about 24.8 days): a later due time is reached in steps of it. */
const LONGEST_TIMER = 2 ** 31 - 1;

/** A message sent with a delay, held by the broker until it is due. */
export interface DelayedMessage extends Due {
  readonly exchange: string;
  readonly routingKey: string;
  readonly message: RawMessage;
}

/**
 * The messages a broker holds for their delay, earliest due first, and one
 * timer for the earliest: however many are held, the broker has one timer,
 * and a short delay sent after a long one is routed first. The timer is the
 * global `setTimeout` (and the clock `Date.now`), looked up when armed, so
 * that a test's fake timers drive it; it is unref'd, so that held messages
 * never keep the process alive (as messages sitting in a queue do not).
 */
export class DelayedMessages {
  readonly #due = new DueHeap<DelayedMessage>();
  readonly #route: (delayed: DelayedMessage) => void;
  #seq = 0;
  #timer?: NodeJS.Timeout;

  constructor(
    /** Routes a message that is due (by the bindings in force then). */
    route: (delayed: DelayedMessage) => void,
  ) {
    this.#route = route;
  }

  /** Holds `message` until `delay` ms from now. */
  add(exchange: string, routingKey: string, message: RawMessage, delay: number): void {
    const delayed = { exchange, routingKey, message, dueAt: Date.now() + delay, seq: this.#seq++ };
    this.#due.push(delayed);
    // Only a new earliest moves the timer; the others wait their turn in the heap.
    if (this.#due.peek() === delayed) this.#arm();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    try {
      // Checked against the clock, not trusted to the timer, so never early.
      const now = Date.now();
      for (let next = this.#due.peek(); next && next.dueAt <= now; next = this.#due.peek()) {
        this.#route(this.#due.shift()!);
      }
    } finally {
      this.#arm();
    }
  };

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const next = this.#due.peek();
    if (!next) return;
    const wait = Math.min(LONGEST_TIMER, Math.max(0, next.dueAt - Date.now()));
    this.#timer = setTimeout(this.#fire, wait);
    this.#timer.unref();
  }
}
