import { capturedPromise, capturedReject, capturedResolve } from "./kit/captured-resolvers.js";

/** Something with a deadline: `expire` is called once it has passed, unless it was removed first. */
export interface Expiring {
  readonly expiresAt: number;
  expire(): void;
}

/**
 * Deadlines for many sends at once. A timer per send would cost a timer
 * create and clear on every message; instead one interval, running only
 * while sends are pending, fails those past their deadline. A deadline fires
 * at most a tenth of its length (and at most a second) late.
 */
export class SendDeadline {
  /** What `add()` was given (sends waiting for a slot: few). */
  readonly #pending = new Set<Expiring>();
  /**
   * The sends `watch()` watches (every send): a list linked through the
   * entries themselves, so that watching one and letting it go is a few
   * pointer writes, no Set entry made and dropped per message.
   */
  #firstWatched?: WatchedWork;
  #lastWatched?: WatchedWork;
  readonly #resolution: number;
  #timer?: NodeJS.Timeout;

  constructor(
    readonly ms: number,
    readonly error: () => Error,
  ) {
    this.#resolution = Math.max(10, Math.min(1000, ms / 10));
  }

  /**
   * `work`'s outcome, or `error()` if it has not settled within the deadline,
   * less the `waited` milliseconds the send already spent (for a slot).
   * `settled` is called once, when the returned promise settles.
   */
  watch<T>(work: Promise<T>, settled: () => void, waited = 0): Promise<T> {
    const promise = capturedPromise<T>();
    const entry = new WatchedWork(
      performance.now() + this.ms - waited,
      capturedResolve as (value: unknown) => void,
      capturedReject,
      settled,
      this.error,
      this.#lastWatched,
    );
    if (this.#lastWatched) this.#lastWatched.next = entry;
    else this.#firstWatched = entry;
    this.#lastWatched = entry;
    this.#startSweeping();
    work.then(
      (value) => {
        // Not watched any more: the deadline has already failed it.
        if (this.#unwatch(entry)) entry.fulfil(value);
      },
      (error: unknown) => {
        if (this.#unwatch(entry)) entry.fail(error);
      },
    );
    return promise;
  }

  /** Calls `entry.expire()` once its time has passed, unless it is removed first. */
  add(entry: Expiring): void {
    this.#pending.add(entry);
    this.#startSweeping();
  }

  /** True if `entry` was pending: it will not expire now. */
  remove(entry: Expiring): boolean {
    return this.#pending.delete(entry);
  }

  #startSweeping(): void {
    this.#timer ??= setInterval(() => this.#sweep(), this.#resolution).unref();
  }

  /** True if `entry` was watched: it will not expire now. */
  #unwatch(entry: WatchedWork): boolean {
    if (!entry.watched) return false;
    entry.watched = false;
    const { previous, next } = entry;
    if (previous) previous.next = next;
    else this.#firstWatched = next;
    if (next) next.previous = previous;
    else this.#lastWatched = previous;
    entry.previous = entry.next = undefined;
    return true;
  }

  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#pending) {
      if (entry.expiresAt > now) continue;
      this.#pending.delete(entry);
      entry.expire();
    }
    for (let entry = this.#firstWatched; entry; ) {
      const next = entry.next;
      if (entry.expiresAt <= now && this.#unwatch(entry)) entry.expire();
      entry = next;
    }
    if (this.#pending.size === 0 && this.#firstWatched === undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/** A send handed to the backend: past its deadline it fails, and its slot is freed. */
class WatchedWork implements Expiring {
  /** In the deadline's list: not settled, not expired. */
  watched = true;
  next: WatchedWork | undefined = undefined;

  constructor(
    readonly expiresAt: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (reason: unknown) => void,
    readonly settled: () => void,
    readonly error: () => Error,
    public previous: WatchedWork | undefined,
  ) {}

  fulfil(value: unknown): void {
    this.settled();
    this.resolve(value);
  }

  fail(reason: unknown): void {
    this.settled();
    this.reject(reason);
  }

  expire(): void {
    this.fail(this.error());
  }
}
