import {
  ConnectionLostError,
  type DeadLetterReason,
  type Delivery,
  type DeliveryInfo,
  type DeliveryTracker,
  type HeldDelivery,
  Lease,
  type LeaseKeeper,
  type PrefetchWindow,
  type RawMessage,
} from "@carrot/core/backend";
import type { LeaseGroup } from "./lease-keeper.js";
import type { StoredEntry } from "./message-codec.js";
import type { SettleBatcher, SettleTarget } from "./settle-batcher.js";

/** Where the deliveries of one subscription (or one `get`) settle; made once, shared by all. */
export interface DeliveryContext {
  readonly queue: string;
  readonly consumerTag?: string;
  /** The consumer's leases; also names its stream and consumer. */
  readonly leases: LeaseGroup;
  readonly keeper: LeaseKeeper<LeaseGroup>;
  readonly tracker: DeliveryTracker<StreamDelivery>;
  /** The subscription's prefetch (none for `get`). */
  readonly window?: PrefetchWindow;
  readonly settles: SettleBatcher;
  deadLetter(queue: string, entry: StoredEntry, reason: DeadLetterReason): Promise<void>;
}

/** The tracker's part of a settle: its checks only; the settle itself follows, awaited (no closure per settle). */
function checkedOnly(): void {}

/**
 * A stream entry handed to a consumer, and its lease. It stays owned by the
 * consumer (in the group's pending list, its lease renewed) until it is
 * settled, or lost: reclaimed by another consumer, or its connection closed.
 */
export class StreamDelivery extends Lease<LeaseGroup> implements Delivery, SettleTarget {
  readonly message: RawMessage;
  readonly info: DeliveryInfo;
  readonly #context: DeliveryContext;
  readonly #entry: StoredEntry;
  /** Undefined when consumed with noAck: nothing to settle. */
  readonly #held?: HeldDelivery<StreamDelivery>;

  /**
   * `deliveries`: the pending-entries list's count for the entry, this
   * delivery included (1 for a fresh read, more once reclaimed); the
   * deliveries of the entries it was re-added from come on top.
   */
  constructor(context: DeliveryContext, entry: StoredEntry, deliveries: number, noAck: boolean) {
    super(context.leases, entry.id);
    this.#context = context;
    this.#entry = entry;
    this.message = entry.message;
    this.info = {
      exchange: entry.exchange,
      routingKey: entry.routingKey,
      redelivered: deliveries > 1 || entry.redelivered,
      queue: context.queue,
      consumerTag: context.consumerTag,
      deliveryCount: entry.earlierDeliveries + deliveries,
    };
    if (noAck) return;
    this.#held = context.tracker.hold(this, context.window);
    context.keeper.hold(this);
  }

  ack(): Promise<void> {
    return this.#settle("ack");
  }

  reject(requeue: boolean): Promise<void> {
    return this.#settle(requeue ? "requeue" : "reject");
  }

  /** Held deliveries are renewed continuously; extend renews now and says whether it still can. */
  async extend(seconds: number): Promise<void> {
    if (this.#held?.state !== "held") throw this.#lostError();
    if (!(await this.#context.keeper.extend(this, seconds))) throw this.#lostError();
  }

  override lost(): void {
    if (this.#held) this.#context.tracker.lose(this.#held);
  }

  /**
   * No async function and no promise of its own: this is every consumed
   * message's path. The settle batcher's promise is the caller's, and the
   * batch's reply settles it through `settled` below.
   */
  #settle(outcome: "ack" | "requeue" | "reject"): Promise<void> {
    const context = this.#context;
    try {
      // Throws before anything is sent if it was settled or lost, or its connection closed.
      context.tracker.settle(this.#held, checkedOnly);
    } catch (error) {
      return Promise.reject(error);
    }
    if (outcome !== "reject") return context.settles.settle(context.leases, this, outcome);
    return context.deadLetter(context.queue, this.#entry, "rejected").then(
      () => context.settles.settle(context.leases, this, "ack"),
      (error: unknown) => Promise.reject(this.settled(false, error)),
    );
  }

  /**
   * @internal The settle batcher's report for this entry (see SettleTarget).
   * Held until Redis has the settle: an orphan sweep meanwhile must not requeue it.
   */
  settled(owned: boolean, error?: unknown): Error | undefined {
    this.#context.keeper.release(this);
    if (error !== undefined) {
      return error instanceof ConnectionLostError ? error : this.#lostError(error);
    }
    return owned ? undefined : this.#lostError();
  }

  #lostError(cause?: unknown): ConnectionLostError {
    return new ConnectionLostError(
      `the redis connection that delivered message ${this.id} from '${this.#context.queue}' lost it ` +
        "(closed, or the message was reclaimed by another consumer after the visibility timeout); " +
        "it will be or was delivered again",
      { cause },
    );
  }
}
