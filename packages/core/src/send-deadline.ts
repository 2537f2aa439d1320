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
  readonly #pending = new Set<Expiring>();
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
    return new Promise<T>((resolve, reject) => {
      // A literal sharing one `expire`: no class to build, no closure per send.
      const entry: WatchedWork = {
        expiresAt: performance.now() + this.ms - waited,
        reject,
        settled,
        error: this.error,
        expire: expireWork,
      };
      this.add(entry);
      work.then(
        (value) => {
          // Not pending any more: the deadline has already failed it.
          if (!this.#pending.delete(entry)) return;
          settled();
          resolve(value);
        },
        (error: unknown) => {
          if (!this.#pending.delete(entry)) return;
          settled();
          reject(error);
        },
      );
    });
  }

  /** Calls `entry.expire()` once its time has passed, unless it is removed first. */
  add(entry: Expiring): void {
    this.#pending.add(entry);
    this.#timer ??= setInterval(() => this.#sweep(), this.#resolution).unref();
  }

  /** True if `entry` was pending: it will not expire now. */
  remove(entry: Expiring): boolean {
    return this.#pending.delete(entry);
  }

  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#pending) {
      if (entry.expiresAt > now) continue;
      this.#pending.delete(entry);
      entry.expire();
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/** A send handed to the backend: past its deadline it fails, and its slot is freed. */
interface WatchedWork extends Expiring {
  readonly reject: (error: Error) => void;
  readonly settled: () => void;
  readonly error: () => Error;
}

function expireWork(this: WatchedWork): void {
  this.settled();
  this.reject(this.error());
}
