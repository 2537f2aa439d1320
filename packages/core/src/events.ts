import type { BackendEventListener, BackendEvents } from "./contract.js";

/**
 * The typed emitter behind `Backend.on/off` and `Connection.on/off`. Unlike
 * Node's EventEmitter, an "error" with no listener does not throw: a backend
 * reports errors it has already handled, and they must not crash the process.
 */
export class BackendEventEmitter {
  readonly #listeners = new Map<keyof BackendEvents, Set<(event: never) => void>>();

  /** Adds a listener; adding the same function twice keeps one. */
  on<E extends keyof BackendEvents>(event: E, listener: BackendEventListener<E>): void {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
  }

  /** Removes a listener; one that was not added is no error. */
  off<E extends keyof BackendEvents>(event: E, listener: BackendEventListener<E>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /**
   * Calls the event's listeners with the payload, in the order they were
   * added. A listener that throws stops the rest, and the error reaches the
   * caller.
   */
  emit<E extends keyof BackendEvents>(event: E, payload: BackendEvents[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      (listener as BackendEventListener<E>)(payload);
    }
  }

  /** How many listeners the event has (a backend may skip building a payload no one hears). */
  listenerCount(event: keyof BackendEvents): number {
    return this.#listeners.get(event)?.size ?? 0;
  }
}
