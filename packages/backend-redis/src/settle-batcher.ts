import { type BatchLimits, type BatchOutcome, KeyedTickBatcher } from "@carrot/core/backend";
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
 * One entry to settle, and what its caller is told. A delivery is its own
 * target (no object per settle); `settledEntry` makes one for an id alone.
 */
export interface SettleTarget {
  /** The stream entry's id. */
  readonly id: string;
  /**
   * The settle's outcome for this entry: `owned` false when the consumer no
   * longer owned it, `error` when the call failed (as a carrot error).
   * Returns the Error its caller's promise rejects with, or undefined.
   */
  settled(owned: boolean, error?: Error): Error | undefined;
}

/** A target for an entry that no delivery holds (expired on read, noAck): only a failed call is an error. */
export function settledEntry(id: string): SettleTarget {
  return { id, settled: (_owned, error) => error };
}

/**
 * Settles are gathered per consumer of a stream (its LeaseGroup) and kind
 * within one turn of the event loop and sent as one script call, so a
 * consumer acking a burst costs a few round trips instead of one per message.
 * Each target's promise settles with its own outcome (`SettleTarget.settled`).
 */
export class SettleBatcher {
  readonly #batches: Record<SettleKind, KeyedTickBatcher<LeaseGroup, SettleTarget>>;

  constructor(
    readonly redis: ScriptedRedis,
    readonly consumerGroup: string,
  ) {
    this.#batches = {
      ack: new KeyedTickBatcher(
        (leases, targets) => this.#send("ack", leases, targets),
        SETTLE_BATCH,
      ),
      requeue: new KeyedTickBatcher(
        (leases, targets) => this.#send("requeue", leases, targets),
        SETTLE_BATCH,
      ),
    };
  }

  /** Resolves once settled; rejects with what `target.settled` returns for a failure. */
  settle(leases: LeaseGroup, target: SettleTarget, kind: SettleKind): Promise<void> {
    return this.#batches[kind].add(leases, target);
  }

  /** Sends the settles gathered so far now (close: before the connection goes). */
  flush(): void {
    this.#batches.ack.flush();
    this.#batches.requeue.flush();
  }

  async #send(
    kind: SettleKind,
    leases: LeaseGroup,
    targets: SettleTarget[],
  ): Promise<BatchOutcome<void>[]> {
    const ids = targets.map((target) => target.id);
    let lost: string[];
    try {
      const { stream, consumer } = leases;
      lost =
        kind === "ack"
          ? await this.redis.carrotSettle(stream, this.consumerGroup, consumer, ...ids)
          : await this.redis.carrotRequeue(stream, this.consumerGroup, consumer, ...ids);
    } catch (error) {
      const failed = commandError(error, `${kind} messages of consumer '${leases.consumer}'`);
      return targets.map((target) => target.settled(false, failed));
    }
    const gone = lost.length === 0 ? undefined : new Set(lost);
    return targets.map((target) => target.settled(gone?.has(target.id) !== true));
  }
}
