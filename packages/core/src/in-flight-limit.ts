import { Deque } from "./deque.js";

/**
 * A counting limit on work in flight: `acquire` waits while `limit` are
 * running. It is what bounds a publisher's outbound buffer, so that a
 * producer faster than the broker waits instead of growing memory.
 */
export class InFlightLimit {
  #running = 0;
  readonly #waiting = new Deque<() => void>();
  #drained?: { promise: Promise<void>; resolve: () => void };

  constructor(readonly limit: number) {}

  get running(): number {
    return this.#running;
  }

  /** Resolves when a slot is free (at once, while under the limit). */
  acquire(): Promise<void> | undefined {
    if (this.#running < this.limit) {
      this.#running++;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) {
      next(); // the slot passes straight to the next waiter
      return;
    }
    this.#running--;
    if (this.#running === 0 && this.#drained) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    if (!this.#drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#drained = { promise, resolve };
    }
    return this.#drained.promise;
  }
}
