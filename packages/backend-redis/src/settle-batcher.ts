import { commandError } from "./connection-errors.js";
import type { LeaseGroup } from "./lease-keeper.js";
import type { ScriptedRedis } from "./lua-scripts.js";

export type SettleKind = "ack" | "requeue";

interface Waiter {
  /** Whether the consumer still owned the entry. */
  resolve(owned: boolean): void;
  reject(error: unknown): void;
}

/** The settles of one kind for one consumer of one stream; `waiters[i]` waits for `ids[i]`. */
interface Batch {
  ids: string[];
  waiters: Waiter[];
}

/**
 * Settles are gathered per consumer of a stream (its LeaseGroup) and kind
 * within one turn of the event loop and sent as one script call, so a
 * consumer acking a burst costs a few round trips instead of one per message.
 */
export class SettleBatcher {
  readonly #pending: Record<SettleKind, Map<LeaseGroup, Batch>> = {
    ack: new Map(),
    requeue: new Map(),
  };
  #scheduled = false;

  constructor(
    readonly redis: ScriptedRedis,
    readonly consumerGroup: string,
  ) {}

  /** Resolves true when settled, false when the consumer no longer owned the entry. */
  settle(leases: LeaseGroup, id: string, kind: SettleKind): Promise<boolean> {
    const pending = this.#pending[kind];
    let batch = pending.get(leases);
    if (!batch) {
      batch = { ids: [], waiters: [] };
      pending.set(leases, batch);
    }
    batch.ids.push(id);
    const { waiters } = batch;
    const promise = new Promise<boolean>((resolve, reject) => {
      waiters.push({ resolve, reject });
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
    return promise;
  }

  /** Sends the settles gathered so far now (close: before the connection goes). */
  flush(): void {
    this.#scheduled = false;
    for (const kind of ["ack", "requeue"] as const) {
      const pending = this.#pending[kind];
      for (const [{ stream, consumer }, batch] of pending) {
        const call =
          kind === "ack"
            ? this.redis.carrotSettle(stream, this.consumerGroup, consumer, ...batch.ids)
            : this.redis.carrotRequeue(stream, this.consumerGroup, consumer, ...batch.ids);
        call.then(
          (lost) => {
            const gone = new Set(lost);
            for (let i = 0; i < batch.ids.length; i++) {
              batch.waiters[i]!.resolve(!gone.has(batch.ids[i]!));
            }
          },
          (error: unknown) => {
            const failure = commandError(error, `${kind} messages of consumer '${consumer}'`);
            for (const waiter of batch.waiters) waiter.reject(failure);
          },
        );
      }
      pending.clear();
    }
  }
}
