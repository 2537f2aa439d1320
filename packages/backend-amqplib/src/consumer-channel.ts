import {
  ConnectionLostError,
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
 * AMQP has no reply to basic.ack or basic.reject: an ack written just before
 * the connection drops may never reach the broker, which then redelivers the
 * message. So a settle resolves only once a later round trip on the same
 * channel (basic.qos with the channel's own prefetch, which changes nothing)
 * has come back: the broker processes a channel's methods in order, so it has
 * processed the ack. The settles of one event-loop turn share one round trip.
 */
export class DeliveryChannel {
  readonly channel: Channel;
  readonly #prefetch: number;
  #open = true;
  #unsettled = 0;
  #retiring = false;
  /** Settles written and waiting for the next round trip. */
  #batch: Waiter[] = [];
  #syncing = false;

  constructor(channel: Channel, prefetch: number) {
    this.channel = channel;
    this.#prefetch = prefetch;
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
    if (!noAck) this.#unsettled++;
    let settled = noAck;
    const settle = async (how: "ack" | "requeue" | "reject") => {
      if (noAck) {
        throw new MessageStateError(
          "this message was consumed with noAck: the broker counted it as acknowledged when it sent it",
        );
      }
      if (settled) throw new MessageStateError("this message is already settled");
      if (!this.#open) {
        throw new ConnectionLostError(
          "the channel that delivered this message is gone (connection or channel lost); RabbitMQ has put it back and will redeliver it",
        );
      }
      settled = true;
      this.#unsettled--;
      try {
        if (how === "ack") this.channel.ack(message);
        else this.channel.reject(message, how === "requeue");
      } catch (error) {
        this.#closeIfDone();
        throw new ConnectionLostError(
          "the channel closed while settling this message; RabbitMQ will redeliver it",
          { cause: error },
        );
      }
      await this.#processed();
    };
    return {
      message: rawMessage(message),
      info,
      ack: () => settle("ack"),
      reject: (requeue) => settle(requeue ? "requeue" : "reject"),
    };
  }

  /** Resolves once the broker has processed everything written on the channel so far. */
  #processed(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ resolve, reject });
      if (!this.#syncing) this.#sync();
    });
  }

  #sync(): void {
    this.#syncing = true;
    // The next turn, so that the settles of this one share the round trip.
    setImmediate(() => {
      const batch = this.#batch;
      this.#batch = [];
      this.channel.prefetch(this.#prefetch).then(
        () => {
          for (const waiter of batch) waiter.resolve();
          this.#synced();
        },
        (error: unknown) => {
          const lost = new ConnectionLostError(
            "the connection was lost before RabbitMQ confirmed it processed this settle; if it did not, it redelivers the message",
            { cause: error },
          );
          for (const waiter of batch) waiter.reject(lost);
          this.#synced();
        },
      );
    });
  }

  #synced(): void {
    this.#syncing = false;
    if (this.#batch.length > 0) this.#sync();
    else this.#closeIfDone();
  }

  #closeIfDone(): void {
    if (this.#retiring && this.#unsettled === 0 && !this.#syncing && this.#open) {
      this.#open = false;
      boundedClose(this.channel);
    }
  }
}
