import { type BatchLimits, KeyedTickBatcher } from "@carrot/core/backend";
import { commandError } from "./connection-errors.js";
import type { LeaseGroup } from "./lease-keeper.js";
import type { ScriptedRedis } from "./lua-scripts.js";

export type SettleKind = "ack" | "requeue";

/** No bound of its own: a consumer holds at most its prefetch, so that bounds a batch. */
const SETTLE_BATCH: BatchLimits = {
  entries: Number.POSITIVE_INFINITY,
  bytes: Number.POSITIVE_INFINITY,
};

/**
 * Settles are gathered per consumer of a stream (its LeaseGroup) and kind
 * within one turn of the event loop and sent as one script call, so a
 * consumer acking a burst costs a few round trips instead of one per message.
 */
export class SettleBatcher {
  readonly #batches: Record<SettleKind, KeyedTickBatcher<LeaseGroup, string, boolean>>;

  constructor(
    readonly redis: ScriptedRedis,
    readonly consumerGroup: string,
  ) {
    this.#batches = {
      ack: new KeyedTickBatcher((leases, ids) => this.#send("ack", leases, ids), SETTLE_BATCH),
      requeue: new KeyedTickBatcher(
        (leases, ids) => this.#send("requeue", leases, ids),
        SETTLE_BATCH,
      ),
    };
  }

  /** Resolves true when settled, false when the consumer no longer owned the entry. */
  settle(leases: LeaseGroup, id: string, kind: SettleKind): Promise<boolean> {
    return this.#batches[kind].add(leases, id);
  }

  /** Sends the settles gathered so far now (close: before the connection goes). */
  flush(): void {
    this.#batches.ack.flush();
    this.#batches.requeue.flush();
  }

  async #send(
    kind: SettleKind,
    { stream, consumer }: LeaseGroup,
    ids: string[],
  ): Promise<boolean[]> {
    try {
      const lost =
        kind === "ack"
          ? await this.redis.carrotSettle(stream, this.consumerGroup, consumer, ...ids)
          : await this.redis.carrotRequeue(stream, this.consumerGroup, consumer, ...ids);
      const gone = new Set(lost);
      return ids.map((id) => !gone.has(id));
    } catch (error) {
      throw commandError(error, `${kind} messages of consumer '${consumer}'`);
    }
  }
}
