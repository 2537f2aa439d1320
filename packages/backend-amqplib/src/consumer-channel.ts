import {
  ConnectionLostError,
  clientError,
  type Delivery,
  type DeliveryInfo,
  MessageStateError,
} from "@carrot/core/backend";
import type { Channel, Message } from "amqplib";
import { rawMessage } from "./amqp-message.js";
import { boundedClose } from "./bounded-close.js";

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A channel that deliveries came on, and whether they can still be settled
 * on it. Delivery tags belong to their channel: once it is gone (connection
 * lost, channel error), RabbitMQ has put its unacked messages back and will
 * redeliver them, so settling fails with ConnectionLostError.
 *
 * The acks of one event-loop turn are written together at its end, as one
 * `multiple` ack for the run of oldest deliveries they complete (plus single
 * acks for any others): one frame, and one socket write, instead of one per
 * message. Rejects are written at once.
 *
 * AMQP has no reply to basic.ack or basic.reject: an ack written just before
 * the connection drops may never reach the broker, which then redelivers the
 * message. So a settle resolves only once a later round trip on the same
 * channel (basic.qos with the channel's own prefetch, which changes nothing)
 * has come back: the broker processes a channel's methods in order, so it has
 * processed the ack. The settles of one turn share one round trip.
 */
export class DeliveryChannel {
  readonly channel: Channel;
  readonly #prefetch: number;
  #open = true;
  #retiring = false;
  /** Deliveries not settled yet, by delivery tag, oldest first. */
  readonly #unsettled = new Map<number, Message>();
  /** Acked this turn, not written yet. */
  readonly #acks = new Set<number>();
  /** Settles of this turn, waiting for their writes and then a round trip. */
  #waiting: Waiter[] = [];
  /** Settles written, waiting for the next round trip. */
  #written: Waiter[] = [];
  #turnEndScheduled = false;
  #syncing = false;
  /** The connection's channels with acks not written yet: its close writes them first. */
  readonly #unflushed: Set<DeliveryChannel>;

  constructor(channel: Channel, prefetch: number, unflushed: Set<DeliveryChannel>) {
    this.channel = channel;
    this.#prefetch = prefetch;
    this.#unflushed = unflushed;
    channel.once("close", () => {
      this.#open = false;
    });
  }

  get open(): boolean {
    return this.#open;
  }

  /** Closes the channel once every delivery handed out has been settled. */
  retire(): void {
    this.#retiring = true;
    this.#closeIfDone();
  }

  delivery(message: Message, info: DeliveryInfo, noAck: boolean): Delivery {
    const tag = message.fields.deliveryTag;
    if (!noAck) this.#unsettled.set(tag, message);
    const settle = (how: "ack" | "requeue" | "reject"): Promise<void> => {
      if (noAck) {
        throw new MessageStateError(
          "this message was consumed with noAck: the broker counted it as acknowledged when it sent it",
        );
      }
      if (!this.#unsettled.has(tag) || this.#acks.has(tag)) {
        throw new MessageStateError("this message is already settled");
      }
      if (!this.#open) {
        throw new ConnectionLostError(
          "the channel that delivered this message is gone (connection or channel lost); RabbitMQ has put it back and will redeliver it",
        );
      }
      if (how === "ack") {
        this.#acks.add(tag);
      } else {
        this.#unsettled.delete(tag);
        try {
          this.channel.reject(message, how === "requeue");
        } catch (error) {
          this.#closeIfDone();
          throw lostWhileSettling(error);
        }
      }
      return this.#processed();
    };
    const settleOrReject = (how: "ack" | "requeue" | "reject"): Promise<void> => {
      try {
        return settle(how);
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return {
      message: rawMessage(message),
      info,
      ack: () => settleOrReject("ack"),
      reject: (requeue) => settleOrReject(requeue ? "requeue" : "reject"),
    };
  }

  /**
   * Writes this turn's acks now and resolves once RabbitMQ has processed
   * them (or the channel is gone): the connection is closing, and a close
   * written first would make RabbitMQ hand those messages back.
   */
  flush(): Promise<void> {
    this.#turnEnd();
    if (!this.#syncing) return Promise.resolve();
    return new Promise((resolve) => {
      this.#written.push({ resolve, reject: () => resolve() });
    });
  }

  /** Resolves once the broker has processed this turn's settles. */
  #processed(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#turnEndScheduled) {
        this.#turnEndScheduled = true;
        this.#unflushed.add(this);
        // The next turn, so that the settles of this one share the writes and the round trip.
        setImmediate(() => this.#turnEnd());
      }
    });
  }

  #turnEnd(): void {
    if (!this.#turnEndScheduled) return; // flushed early
    this.#turnEndScheduled = false;
    this.#unflushed.delete(this);
    const waiting = this.#waiting;
    this.#waiting = [];
    let lost: ConnectionLostError | undefined;
    try {
      if (this.#open) this.#writeAcks();
      else lost = lostWhileSettling();
    } catch (error) {
      lost = lostWhileSettling(error);
    } finally {
      this.#acks.clear();
    }
    if (lost) for (const waiter of waiting) waiter.reject(lost);
    else this.#written.push(...waiting);
    // Earlier settles may wait here too (see #synced): a lost channel fails their round trip.
    if (!this.#syncing && this.#written.length > 0) this.#sync();
    else this.#closeIfDone();
  }

  /** One `multiple` ack for the oldest deliveries, if this turn acked them all; single acks for the rest. */
  #writeAcks(): void {
    const acks = this.#acks;
    if (acks.size === 0) return;
    let last: Message | undefined;
    let run = 0;
    for (const [tag, message] of this.#unsettled) {
      if (!acks.has(tag)) break;
      last = message;
      run++;
      this.#unsettled.delete(tag);
      acks.delete(tag);
    }
    if (last) this.channel.ack(last, run > 1);
    for (const tag of acks) {
      this.channel.ack(this.#unsettled.get(tag)!);
      this.#unsettled.delete(tag);
    }
  }

  /** A basic.qos round trip for the settles written so far. */
  #sync(): void {
    this.#syncing = true;
    const batch = this.#written;
    this.#written = [];
    this.channel.prefetch(this.#prefetch).then(
      () => {
        for (const waiter of batch) waiter.resolve();
        this.#synced();
      },
      (error: unknown) => {
        const lost = clientError(
          ConnectionLostError,
          "the connection was lost before RabbitMQ confirmed it processed this settle; if it did not, it redelivers the message",
          error,
        );
        for (const waiter of batch) waiter.reject(lost);
        this.#synced();
      },
    );
  }

  #synced(): void {
    this.#syncing = false;
    // A turn about to end starts the next round trip itself, its qos in the
    // same socket write as its acks: one write instead of two.
    if (this.#turnEndScheduled) return;
    if (this.#written.length > 0) this.#sync();
    else this.#closeIfDone();
  }

  #closeIfDone(): void {
    const idle = !this.#syncing && !this.#turnEndScheduled && this.#written.length === 0;
    if (this.#retiring && this.#unsettled.size === 0 && idle && this.#open) {
      this.#open = false;
      boundedClose(this.channel);
    }
  }
}

/** `cause`: what amqplib threw, when it was amqplib that found the channel gone. */
function lostWhileSettling(cause?: unknown): ConnectionLostError {
  const message = "the channel closed while settling this message; RabbitMQ will redeliver it";
  return cause === undefined
    ? new ConnectionLostError(message)
    : clientError(ConnectionLostError, message, cause);
}
