/**
 * Coalesces calls made in the same turn of the event loop into batch
 * requests (SQS takes 10 entries per batch, and at most so many bytes for
 * SendMessageBatch). Each caller's promise settles with its own entry's
 * outcome, so one refused entry fails only its own send.
 */
export interface BatchLimits {
  entries: number;
  /** Total size a batch may reach; Infinity when only the count matters. */
  bytes: number;
}

/** Sends one batch; resolves to one outcome per entry, in order (undefined: success). */
export type FlushBatch<T> = (items: T[]) => Promise<(Error | undefined)[]>;

interface Pending<T> {
  item: T;
  size: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class Batcher<T> {
  readonly #flush: FlushBatch<T>;
  readonly #limits: BatchLimits;
  #pending: Pending<T>[] = [];
  #bytes = 0;
  #scheduled?: NodeJS.Immediate;

  constructor(flush: FlushBatch<T>, limits: BatchLimits) {
    this.#flush = flush;
    this.#limits = limits;
  }

  add(item: T, size = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length > 0 && this.#bytes + size > this.#limits.bytes) this.#send();
      this.#pending.push({ item, size, resolve, reject });
      this.#bytes += size;
      if (this.#pending.length >= this.#limits.entries) this.#send();
      else this.#scheduled ??= setImmediate(() => this.#send());
    });
  }

  #send(): void {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#bytes = 0;
    this.#flush(batch.map((p) => p.item)).then(
      (outcomes) => {
        batch.forEach((p, i) => {
          const error = outcomes[i];
          if (error) p.reject(error);
          else p.resolve();
        });
      },
      (error: Error) => {
        for (const p of batch) p.reject(error);
      },
    );
  }
}

/** Batchers keyed by queue URL, made on first use. */
export class BatcherMap<T> {
  readonly #make: (url: string) => Batcher<T>;
  readonly #batchers = new Map<string, Batcher<T>>();

  constructor(make: (url: string) => Batcher<T>) {
    this.#make = make;
  }

  add(url: string, item: T, size?: number): Promise<void> {
    let batcher = this.#batchers.get(url);
    if (!batcher) {
      batcher = this.#make(url);
      this.#batchers.set(url, batcher);
    }
    return batcher.add(item, size);
  }
}
