import {
  ConnectionLostError,
  clientError,
  type Delivery,
  type DeliveryInfo,
  MessageStateError,
  type RawMessage,
} from "@carrot/core/backend";
import type { Channel, Message } from "amqplib";
import { rawMessage } from "./amqp-message.js";
import { boundedClose } from "./bounded-close.js";
import { qosRoundTrip } from "./qos-round-trip.js";

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** The settles of one turn: they share one promise, as they share the writes and the round trip. */
interface Turn extends Waiter {
  readonly promise: Promise<void>;
}

function newTurn(): Turn {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

type Settle = "ack" | "requeue" | "reject";

/**
 * One delivery as core sees it. A class rather than an object of closures:
 * its methods live on the prototype, so a delivery costs one object.
 */
class AmqpDelivery implements Delivery {
  readonly message: RawMessage;
  readonly info: DeliveryInfo;
  /** amqplib's message: its delivery tag is what an ack names. */
  readonly amqp: Message;
  /** Acked this turn, the ack not written yet. */
  ackPending = false;
  readonly #channel: DeliveryChannel;
  readonly #noAck: boolean;

  constructor(channel: DeliveryChannel, amqp: Message, info: DeliveryInfo, noAck: boolean) {
    this.message = rawMessage(amqp);
    this.info = info;
    this.amqp = amqp;
    this.#channel = channel;
    this.#noAck = noAck;
  }

  ack(): Promise<void> {
    return this.#settle("ack");
  }

  reject(requeue: boolean): Promise<void> {
    return this.#settle(requeue ? "requeue" : "reject");
  }

  #settle(how: Settle): Promise<void> {
    if (this.#noAck) {
      return Promise.reject(
        new MessageStateError(
          "this message was consumed with noAck: the broker counted it as acknowledged when it sent it",
        ),
      );
    }
    try {
      return this.#channel.settle(this, how);
    } catch (error) {
      return Promise.reject(error);
    }
  }
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
  readonly #unsettled = new Map<number, AmqpDelivery>();
  /** Acked this turn, not written yet. */
  #acks: AmqpDelivery[] = [];
  /** The settles of this turn, once there is one: its end is scheduled. */
  #turn?: Turn;
  /** Settles written, waiting for the next round trip. */
  #written: Waiter[] = [];
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
    const delivery = new AmqpDelivery(this, message, info, noAck);
    if (!noAck) this.#unsettled.set(message.fields.deliveryTag, delivery);
    return delivery;
  }

  /** Settles a delivery of this channel (see the class comment); throws when it cannot. */
  settle(delivery: AmqpDelivery, how: Settle): Promise<void> {
    if (delivery.ackPending || !this.#unsettled.has(delivery.amqp.fields.deliveryTag)) {
      throw new MessageStateError("this message is already settled");
    }
    if (!this.#open) {
      throw new ConnectionLostError(
        "the channel that delivered this message is gone (connection or channel lost); RabbitMQ has put it back and will redeliver it",
      );
    }
    if (how === "ack") {
      delivery.ackPending = true;
      this.#acks.push(delivery);
    } else {
      this.#unsettled.delete(delivery.amqp.fields.deliveryTag);
      try {
        this.channel.reject(delivery.amqp, how === "requeue");
      } catch (error) {
        this.#closeIfDone();
        throw lostWhileSettling(error);
      }
    }
    return this.#processed();
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
    if (this.#turn) return this.#turn.promise;
    const turn = newTurn();
    this.#turn = turn;
    this.#unflushed.add(this);
    // The next turn, so that the settles of this one share the writes and the round trip.
    setImmediate(() => this.#turnEnd());
    return turn.promise;
  }

  #turnEnd(): void {
    const turn = this.#turn;
    if (!turn) return; // flushed early
    this.#turn = undefined;
    this.#unflushed.delete(this);
    const acks = this.#acks;
    this.#acks = [];
    let lost: ConnectionLostError | undefined;
    try {
      if (this.#open) this.#writeAcks(acks);
      else lost = lostWhileSettling();
    } catch (error) {
      lost = lostWhileSettling(error);
    } finally {
      // An ack that was not written may be asked for again (and then fails as lost).
      for (const delivery of acks) delivery.ackPending = false;
    }
    if (lost) turn.reject(lost);
    else this.#written.push(turn);
    // Earlier settles may wait here too (see #synced): a lost channel fails their round trip.
    if (!this.#syncing && this.#written.length > 0) this.#sync();
    else this.#closeIfDone();
  }

  /** One `multiple` ack for the oldest deliveries, if this turn acked them all; single acks for the rest. */
  #writeAcks(acks: AmqpDelivery[]): void {
    if (acks.length === 0) return;
    let last: AmqpDelivery | undefined;
    let run = 0;
    for (const [tag, delivery] of this.#unsettled) {
      if (!delivery.ackPending) break;
      last = delivery;
      run++;
      this.#unsettled.delete(tag);
    }
    if (last) this.channel.ack(last.amqp, run > 1);
    if (run === acks.length) return;
    // The acks past the run: each on its own (a delete that finds nothing was in the run).
    for (const delivery of acks) {
      if (this.#unsettled.delete(delivery.amqp.fields.deliveryTag)) this.channel.ack(delivery.amqp);
    }
  }

  /** A basic.qos round trip for the settles written so far. */
  #sync(): void {
    this.#syncing = true;
    const batch = this.#written;
    this.#written = [];
    qosRoundTrip(
      this.channel,
      this.#prefetch,
      () => {
        for (const waiter of batch) waiter.resolve();
        this.#synced();
      },
      (error) => {
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
    if (this.#turn) return;
    if (this.#written.length > 0) this.#sync();
    else this.#closeIfDone();
  }

  #closeIfDone(): void {
    const idle = !this.#syncing && !this.#turn && this.#written.length === 0;
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
