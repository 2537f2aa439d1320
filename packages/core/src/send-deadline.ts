/**
 * Deadlines for many sends at once. A timer per send would cost a timer
 * create and clear on every message; instead one interval, running only
 * while sends are pending, fails those past their deadline. A deadline fires
 * at most a tenth of its length (and at most a second) late.
 */
export class SendDeadline {
  readonly #pending = new Set<Watched>();
  readonly #resolution: number;
  #timer?: NodeJS.Timeout;

  constructor(
    readonly ms: number,
    readonly error: () => Error,
  ) {
    this.#resolution = Math.max(10, Math.min(1000, ms / 10));
  }

  /**
   * `work`'s outcome, or `error()` if it has not settled within the deadline.
   * `settled` is called once, when the returned promise settles.
   */
  watch<T>(work: Promise<T>, settled: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Watched = { expiresAt: performance.now() + this.ms, reject, settled };
      this.#pending.add(entry);
      this.#timer ??= setInterval(() => this.#sweep(), this.#resolution).unref();
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

  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#pending) {
      if (entry.expiresAt > now) continue;
      this.#pending.delete(entry);
      entry.settled();
      entry.reject(this.error());
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

interface Watched {
  expiresAt: number;
  reject: (error: Error) => void;
  settled: () => void;
}
