import { abortError } from "./abort-error.js";
import { InvalidOptionsError, RequestTimeoutError } from "./errors.js";

/** One request waiting for its reply. */
interface Waiting<T> {
  resolve(reply: T): void;
  reject(error: unknown): void;
  /** Stops its timer and its abort listener. */
  stop(): void;
}

/**
 * The requests of one connection still waiting for their replies, by
 * correlation id. Each leaves the map when it settles: by its reply, its
 * timeout, its signal or `rejectAll`, so the map holds only what is
 * awaited now, never what was forgotten.
 */
export class PendingRequests<T> {
  readonly #waiting = new Map<string, Waiting<T>>();

  /** How many requests wait now. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Waits for the reply to `correlationId`: the promise resolves with what
   * `resolve` is given for it, or rejects with RequestTimeoutError after
   * `timeout` ms, or with the signal's reason when it aborts. The same id
   * twice at once is refused: the replies could not be told apart.
   */
  add(correlationId: string, timeout: number, signal?: AbortSignal): Promise<T> {
    if (this.#waiting.has(correlationId)) {
      throw new InvalidOptionsError(
        `a request with correlationId '${correlationId}' is already waiting for its reply on this connection; give each request its own id (or none: request() makes one)`,
      );
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reject(
          correlationId,
          new RequestTimeoutError(
            `no reply to request '${correlationId}' within ${timeout} ms: the responder may be slow, down, or not consuming the queue the request went to. A reply that comes later is dropped; send the request again (it may then be processed twice) or raise the timeout`,
          ),
        );
      }, timeout);
      const onAbort = () => this.reject(correlationId, abortError(signal as AbortSignal));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.set(correlationId, {
        resolve,
        reject,
        stop: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      });
    });
  }

  /** Settles the request with its reply; false when none waits for that id (late, or not ours). */
  resolve(correlationId: string, reply: T): boolean {
    const waiting = this.#take(correlationId);
    waiting?.resolve(reply);
    return waiting !== undefined;
  }

  /** Fails the request, if it still waits. */
  reject(correlationId: string, error: unknown): void {
    this.#take(correlationId)?.reject(error);
  }

  /** Fails every request waiting now. */
  rejectAll(error: unknown): void {
    for (const id of [...this.#waiting.keys()]) this.reject(id, error);
  }

  #take(correlationId: string): Waiting<T> | undefined {
    const waiting = this.#waiting.get(correlationId);
    if (!waiting) return undefined;
    this.#waiting.delete(correlationId);
    waiting.stop();
    return waiting;
  }
}
