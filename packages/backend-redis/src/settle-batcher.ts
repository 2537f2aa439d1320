import { type BatchLimits, type BatchOutcome, KeyedTickBatcher } from "@carrot/core/backend";
import { commandError } from "./connection-errors.js";
import type { LeaseGroup } from "./lease-keeper.js";
import { blockingReply } from "./liveness.js";
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
  /** Set by `carryAcks` while it flushes: where those consumers' acks go. */
  readonly #carriers = new Map<LeaseGroup, ScriptedRedis>();

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

  /**
   * Sends the acks gathered so far now, those of `leases` on `carrier`: the
   * connection that consumer's next read goes out on, so that one socket
   * write carries both (a write and a reply read less per batch). An ack its
   * carrier's connection drops unanswered is sent again on the command
   * connection, which resends what a drop cuts off: as if it had gone there.
   */
  carryAcks(leases: LeaseGroup, carrier: ScriptedRedis): void {
    this.#carriers.set(leases, carrier);
    try {
      this.#batches.ack.flush();
    } finally {
      this.#carriers.delete(leases);
    }
  }

  async #send(
    kind: SettleKind,
    leases: LeaseGroup,
    targets: SettleTarget[],
  ): Promise<BatchOutcome<void>[]> {
    const ids = targets.map((target) => target.id);
    let lost: string[];
    try {
      lost = await this.#call(kind, leases, ids, this.#carriers.get(leases));
    } catch (error) {
      const failed = commandError(error, `${kind} messages of consumer '${leases.consumer}'`);
      return targets.map((target) => target.settled(false, failed));
    }
    const gone = lost.length === 0 ? undefined : new Set(lost);
    return targets.map((target) => target.settled(gone?.has(target.id) !== true));
  }

  /** The script call for `ids`: on `carrier` when one carries these acks, else on the command connection. */
  #call(
    kind: SettleKind,
    { stream, consumer }: LeaseGroup,
    ids: string[],
    carrier: ScriptedRedis | undefined,
  ): Promise<string[]> {
    const group = this.consumerGroup;
    if (kind === "requeue") return this.redis.carrotRequeue(stream, group, consumer, ...ids);
    if (carrier === undefined) return this.redis.carrotSettle(stream, group, consumer, ...ids);
    // The carrier does not resend: its reply is awaited as a blocking read's, failing if it closes first.
    const carried = blockingReply(carrier, carrier.carrotSettle(stream, group, consumer, ...ids));
    return carried.catch((error: unknown) => {
      // Redis's answer stands; a connection that dropped first leaves the acks to the command connection.
      if (error instanceof Error && error.name === "ReplyError") throw error;
      return this.redis.carrotSettle(stream, group, consumer, ...ids);
    });
  }
}
