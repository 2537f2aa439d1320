import type { ScriptedRedis } from "./lua-scripts.js";

export type SettleKind = "ack" | "requeue";

interface Pending {
  ids: string[];
  /** Resolves each id's promise with whether it was still owned. */
  waiters: Map<string, { resolve: (owned: boolean) => void; reject: (error: unknown) => void }>;
}

/**
 * Settles are gathered per stream, consumer and kind within one turn of the
 * event loop and sent as one script call, so a consumer acking a burst costs
 * a few round trips instead of one per message.
 */
export class SettleBatcher {
  readonly #pending = new Map<
    string,
    Pending & { stream: string; consumer: string; kind: SettleKind }
  >();
  #scheduled = false;

  constructor(
    readonly redis: ScriptedRedis,
    readonly group: string,
  ) {}

  /** Resolves true when settled, false when the consumer no longer owned the entry. */
  settle(stream: string, consumer: string, id: string, kind: SettleKind): Promise<boolean> {
    const key = `${kind}\0${stream}\0${consumer}`;
    let batch = this.#pending.get(key);
    if (!batch) {
      batch = { stream, consumer, kind, ids: [], waiters: new Map() };
      this.#pending.set(key, batch);
    }
    batch.ids.push(id);
    const promise = new Promise<boolean>((resolve, reject) => {
      batch.waiters.set(id, { resolve, reject });
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return promise;
  }

  #flush(): void {
    this.#scheduled = false;
    const batches = [...this.#pending.values()];
    this.#pending.clear();
    for (const batch of batches) {
      const call =
        batch.kind === "ack"
          ? this.redis.carrotSettle(batch.stream, this.group, batch.consumer, ...batch.ids)
          : this.redis.carrotRequeue(batch.stream, this.group, batch.consumer, ...batch.ids);
      call.then(
        (lost) => {
          const gone = new Set(lost);
          for (const [id, waiter] of batch.waiters) waiter.resolve(!gone.has(id));
        },
        (error: unknown) => {
          for (const waiter of batch.waiters.values()) waiter.reject(error);
        },
      );
    }
  }
}
