import {
  ConnectionLostError,
  type DeadLetterReason,
  type Delivery,
  type DeliveryInfo,
  MessageStateError,
  type RawMessage,
} from "@carrot/core/backend";
import type { Lease, LeaseGroup, LeaseKeeper } from "./lease-keeper.js";
import type { StoredEntry } from "./message-codec.js";
import type { SettleBatcher } from "./settle-batcher.js";

/** Where the deliveries of one subscription (or one `get`) settle; made once, shared by all. */
export interface DeliveryContext {
  readonly queue: string;
  readonly consumerTag?: string;
  /** The consumer's leases; also names its stream and consumer. */
  readonly leases: LeaseGroup;
  readonly keeper: LeaseKeeper;
  readonly settles: SettleBatcher;
  /** Frees a place in the subscription's prefetch. */
  released(): void;
  deadLetter(queue: string, entry: StoredEntry, reason: DeadLetterReason): Promise<void>;
  /** The connection was closed: nothing it delivered can be settled any more. */
  closed(): boolean;
}

/**
 * A stream entry handed to a consumer. It stays owned by the consumer (in
 * the group's pending list, its lease renewed) until it is settled, or
 * lost: reclaimed by another consumer, or its connection closed.
 */
export class StreamDelivery implements Delivery, Lease {
  readonly message: RawMessage;
  readonly info: DeliveryInfo;
  readonly #context: DeliveryContext;
  readonly #entry: StoredEntry;
  #state: "held" | "settled" | "lost";

  constructor(context: DeliveryContext, entry: StoredEntry, redelivered: boolean, noAck: boolean) {
    this.#context = context;
    this.#entry = entry;
    this.message = entry.message;
    this.info = {
      exchange: entry.exchange,
      routingKey: entry.routingKey,
      redelivered: redelivered || entry.redelivered,
      queue: context.queue,
      consumerTag: context.consumerTag,
    };
    this.#state = noAck ? "settled" : "held";
    if (!noAck) context.keeper.hold(this);
  }

  get group(): LeaseGroup {
    return this.#context.leases;
  }

  get id(): string {
    return this.#entry.id;
  }

  get held(): boolean {
    return this.#state === "held";
  }

  ack(): Promise<void> {
    return this.#settle("ack");
  }

  reject(requeue: boolean): Promise<void> {
    return this.#settle(requeue ? "requeue" : "reject");
  }

  /** Held deliveries are renewed continuously; extend renews now and says whether it still can. */
  async extend(): Promise<void> {
    if (this.#state !== "held") throw this.#lostError();
    await this.#context.keeper.renew([this]);
    // renew() calls lost() if another consumer took the entry meanwhile.
    if ((this.#state as string) === "lost") throw this.#lostError();
  }

  lost(): void {
    if (this.#state !== "held") return;
    this.#state = "lost";
    this.#context.released();
  }

  async #settle(outcome: "ack" | "requeue" | "reject"): Promise<void> {
    const context = this.#context;
    if (this.#state === "lost" || context.closed()) throw this.#lostError();
    if (this.#state === "settled") {
      throw new MessageStateError(
        `message ${this.id} from '${context.queue}' is not awaiting a settle (settled already, or consumed with noAck)`,
      );
    }
    this.#state = "settled";
    context.released();
    try {
      if (outcome === "reject") await context.deadLetter(context.queue, this.#entry, "rejected");
      const kind = outcome === "requeue" ? "requeue" : "ack";
      if (!(await context.settles.settle(context.leases, this.id, kind))) throw this.#lostError();
    } catch (error) {
      throw error instanceof ConnectionLostError ? error : this.#lostError(error);
    } finally {
      // Held until Redis has the settle: an orphan sweep meanwhile must not requeue it.
      context.keeper.release(this);
    }
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
