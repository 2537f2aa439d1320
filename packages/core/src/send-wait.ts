import { abortError } from "./abort-error.js";
import { type InFlightLimit, SlotWait } from "./in-flight-limit.js";
import type { Expiring, SendDeadline } from "./send-deadline.js";

/**
 * A send waiting for a slot, until one passes to it, its deadline passes,
 * or its signal aborts; `granted` then resolves to the milliseconds it
 * waited, or rejects (no slot held, nothing sent). One object is both its
 * place in the limit's queue and its entry in the deadline's sweep, so that
 * under backpressure a waiting send costs one object and one promise.
 * The sends of a publisher wait in arrival order with one deadline length,
 * so they expire in queue order: only the first in the queue is in the
 * sweep (it joins on `atHead`), which keeps the sweep's set small however
 * many wait.
 */
export class SendWait extends SlotWait implements Expiring {
  readonly expiresAt: number;
  readonly granted: Promise<number>;
  readonly #start = performance.now();
  readonly #limit: InFlightLimit;
  readonly #deadline: SendDeadline;
  readonly #timedOut: () => Error;
  readonly #signal?: AbortSignal;
  readonly #onAbort?: () => void;
  #resolve!: (waited: number) => void;
  #reject!: (error: Error) => void;

  /** `timedOut` makes the error of a send whose deadline passed while it waited. */
  constructor(
    limit: InFlightLimit,
    deadline: SendDeadline,
    timedOut: () => Error,
    signal: AbortSignal | undefined,
  ) {
    super();
    this.#limit = limit;
    this.#deadline = deadline;
    this.#timedOut = timedOut;
    this.#signal = signal;
    this.expiresAt = this.#start + deadline.ms;
    this.granted = new Promise<number>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    limit.enqueue(this);
    if (signal) {
      this.#onAbort = () => this.#giveUp(abortError(signal));
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** First in the queue: the next to expire, so now in the sweep. */
  override atHead(): void {
    this.#deadline.add(this);
  }

  /** A slot passes to this wait: taken, unless the deadline passed before the sweep saw it. */
  grant(): boolean {
    this.#stopWatching();
    const waited = performance.now() - this.#start;
    if (waited >= this.#deadline.ms) {
      this.#reject(this.#timedOut());
      return false;
    }
    this.#resolve(waited);
    return true;
  }

  /** The deadline's sweep: the send's time ran out in the queue. */
  expire(): void {
    this.#giveUp(this.#timedOut());
  }

  #giveUp(error: Error): void {
    if (!this.#limit.withdraw(this)) return;
    this.#stopWatching();
    this.#reject(error);
  }

  #stopWatching(): void {
    this.#deadline.remove(this);
    if (this.#onAbort) this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
