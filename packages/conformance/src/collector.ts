import { deferred, withTimeout } from "./wait-for.js";

/**
 * Gathers what arrives asynchronously (messages, error events) and lets a
 * case wait until enough has arrived, with the case's deadline. On timeout
 * the error lists what did arrive, which is usually the diagnosis.
 */
export class Collector<T> {
  /** Everything pushed so far, in arrival order. */
  readonly items: T[] = [];
  readonly #waiters = new Set<() => void>();
  #failure?: Error;
  readonly #failed = deferred<never>();

  constructor(
    /** What it collects ("messages on 'q'"), for timeout messages. */
    readonly label: string,
    /** How long one `until` waits before it fails. */
    readonly timeoutMs: number,
    /** One item in `summary()`; by default `String(item)`. */
    readonly describe: (item: T) => string = String,
  ) {}

  /** How many items arrived. */
  get length(): number {
    return this.items.length;
  }

  /** Adds an item and wakes the waits whose predicate it may satisfy. */
  push(item: T): void {
    this.items.push(item);
    for (const wake of this.#waiters) wake();
  }

  /** What feeds the collector broke (a consumer's wait() rejected): waits fail now, with that cause. */
  fail(cause: unknown): void {
    this.#failure ??= new Error(`${this.label} stopped: ${cause}`, { cause });
    this.#failed.reject(this.#failure);
  }

  /** Resolves with the items once `predicate` holds for them. */
  async until(predicate: (items: readonly T[]) => boolean, what: string): Promise<T[]> {
    if (predicate(this.items)) return this.items;
    if (this.#failure) throw this.#failure;
    let wake!: () => void;
    const reached = new Promise<void>((resolve) => {
      wake = () => {
        if (predicate(this.items)) resolve();
      };
      this.#waiters.add(wake);
    });
    try {
      await withTimeout(
        Promise.race([reached, this.#failed.promise]),
        this.timeoutMs,
        `${what} on ${this.label}`,
        () => this.summary(),
      );
      return this.items;
    } finally {
      this.#waiters.delete(wake);
    }
  }

  /** Resolves once at least `count` items arrived. */
  count(count: number): Promise<T[]> {
    return this.until((items) => items.length >= count, `${count} item(s)`);
  }

  /** The label, the count and the first 20 items: what a timed-out wait reports. */
  summary(): string {
    const shown = this.items.slice(0, 20).map(this.describe).join(", ");
    const more = this.items.length > 20 ? `, ... (${this.items.length - 20} more)` : "";
    return `${this.label} has ${this.items.length}: [${shown}${more}]`;
  }
}
