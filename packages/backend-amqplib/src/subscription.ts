import {
  type BackendEventEmitter,
  backoffDelay,
  ConnectionLostError,
  type ConsumeOptions,
  type Delivery,
  type DeliveryInfo,
  NotFoundError,
  type ReconnectPolicy,
  type Subscription,
} from "@carrot/core/backend";
import type { ChannelModel, Message } from "amqplib";
import { channelError } from "./amqp-errors.js";
import { boundedClose } from "./bounded-close.js";
import type { ConnectionManager } from "./connection-manager.js";
import { DeliveryChannel } from "./consumer-channel.js";
import { quorumDeliveryCount } from "./delivery-count.js";

export interface SubscriptionContext {
  manager: ConnectionManager;
  events: BackendEventEmitter;
  /** Backoff between attempts to resume after the channel (not the connection) died. */
  policy: ReconnectPolicy;
  /** Declares the queue and its bindings again, if this connection declared them. */
  redeclare(queue: string): Promise<void>;
  /** Whether this connection declared the queue as a quorum queue (see delivery-count.ts). */
  isQuorum(queue: string): boolean;
  ended(subscription: AmqpSubscription): void;
  /** The connection's channels with acks not written yet. */
  unflushedAcks: Set<DeliveryChannel>;
}

/**
 * One consumer on its own channel, so that its prefetch (basic.qos) is its
 * own and a channel error elsewhere does not stop it. It resumes by itself,
 * with the same consumer tag and options: after a reconnect (the connection
 * manager calls `resume`), and after its channel alone was closed (a server
 * cancel, a channel error), with backoff.
 */
export class AmqpSubscription implements Subscription {
  readonly consumerTag: string;
  readonly queue: string;
  readonly #options: ConsumeOptions;
  readonly #onDelivery: (delivery: Delivery) => void;
  readonly #onBrokerCancel?: (reason: Error) => void;
  readonly #context: SubscriptionContext;
  #current?: DeliveryChannel;
  #cancelled = false;
  #resuming = false;
  /** The queue is one this connection declared as quorum: deliveries carry the broker's count. */
  #quorum = false;
  /** Channel failures since the last delivery: where the resume backoff starts. */
  #failedInARow = 0;

  constructor(
    queue: string,
    options: ConsumeOptions,
    onDelivery: (delivery: Delivery) => void,
    onBrokerCancel: ((reason: Error) => void) | undefined,
    context: SubscriptionContext,
  ) {
    this.queue = queue;
    this.consumerTag = options.consumerTag;
    this.#options = options;
    this.#onDelivery = onDelivery;
    this.#onBrokerCancel = onBrokerCancel;
    this.#context = context;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /**
   * Opens a channel on `model` (or the current connection) and starts
   * consuming; typed error on failure. RabbitMQ may send the first messages
   * in the same packet as consume-ok: on the first start they are held until
   * the caller has its Subscription (the next turn of the event loop), so
   * `onDelivery` never runs before `consume()` has resolved.
   */
  async start(model?: ChannelModel, first = false): Promise<void> {
    const connection = model ?? (await this.#context.manager.ready());
    this.#quorum = this.#context.isQuorum(this.queue);
    const channel = await connection.createChannel().catch((error: unknown) => {
      throw channelError(error, `opening a channel to consume from queue '${this.queue}'`);
    });
    const current = new DeliveryChannel(
      channel,
      this.#options.prefetch,
      this.#context.unflushedAcks,
    );
    let early: Message[] | undefined = first ? [] : undefined;
    let channelFailure: Error | undefined;
    channel.on("error", (error: Error) => {
      channelFailure = error;
    });
    channel.once("close", () => this.#channelClosed(current, channelFailure));
    try {
      if (this.#options.prefetch > 0) await channel.prefetch(this.#options.prefetch);
      await channel.consume(
        this.queue,
        (message) => (early && message ? early.push(message) : this.#receive(current, message)),
        {
          noAck: this.#options.noAck,
          exclusive: this.#options.exclusive,
          consumerTag: this.consumerTag,
        },
      );
    } catch (error) {
      boundedClose(channel);
      throw channelError(error, `consuming from queue '${this.queue}'`);
    }
    if (this.#cancelled || this.#current?.open) {
      // Cancelled meanwhile, or a concurrent resume won: one consumer per subscription.
      await channel.cancel(this.consumerTag).catch(() => {});
      // Held back unseen; if the channel is already gone, RabbitMQ requeued them itself.
      if (!this.#options.noAck && current.open)
        for (const message of early ?? []) channel.nack(message, false, true);
      current.retire();
      return;
    }
    this.#current = current;
    if (early) {
      const held = early;
      setImmediate(() => {
        early = undefined;
        for (const message of held) this.#receive(current, message);
      });
    }
  }

  /** After a reconnect: consume again on the new connection; on failure keep trying with backoff. */
  async resume(model: ChannelModel): Promise<void> {
    if (this.#cancelled || this.#current?.open) return;
    try {
      await this.start(model);
    } catch (error) {
      this.#report(error);
      void this.#resumeWithBackoff();
    }
  }

  async cancel(): Promise<void> {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#context.ended(this);
    const current = this.#current;
    this.#current = undefined;
    if (!current?.open) return;
    try {
      await current.channel.cancel(this.consumerTag);
    } catch {
      // The channel is already gone: nothing more will be delivered on it.
    }
    current.retire();
  }

  #receive(current: DeliveryChannel, message: Message | null): void {
    if (message === null) {
      // basic.cancel from the broker: the queue was deleted (or moved). The
      // channel stays for settling what was delivered; consuming starts over.
      if (this.#current === current) this.#current = undefined;
      current.retire();
      if (!this.#cancelled) void this.#resumeWithBackoff();
      return;
    }
    if (this.#cancelled) {
      // Arrived between cancel() and the broker's cancel-ok: hand it back.
      if (!this.#options.noAck) current.channel.nack(message, false, true);
      return;
    }
    const { exchange, routingKey, redelivered } = message.fields;
    const info: DeliveryInfo = {
      exchange,
      routingKey,
      redelivered,
      queue: this.queue,
      consumerTag: this.consumerTag,
    };
    if (this.#quorum) info.deliveryCount = quorumDeliveryCount(message);
    this.#onDelivery(current.delivery(message, info, this.#options.noAck));
    this.#failedInARow = 0;
  }

  #channelClosed(current: DeliveryChannel, failure: Error | undefined): void {
    if (this.#current !== current) return;
    this.#current = undefined;
    if (this.#cancelled) return;
    // Without a channel error the connection went down: the connection
    // manager resumes every subscription once it is back.
    if (failure) {
      this.#failedInARow++;
      this.#report(
        channelError(failure, `consumer '${this.consumerTag}' on queue '${this.queue}'`),
      );
      void this.#resumeWithBackoff();
    }
  }

  async #resumeWithBackoff(): Promise<void> {
    if (this.#resuming) return;
    this.#resuming = true;
    try {
      // A channel that fails again before delivering anything (a consumer
      // the broker keeps refusing) waits longer each time, never spins.
      for (let attempt = this.#failedInARow; !this.#cancelled && !this.#current; attempt++) {
        await new Promise((resolve) =>
          setTimeout(resolve, backoffDelay(this.#context.policy, attempt)),
        );
        if (this.#cancelled || this.#current) return;
        try {
          await this.#context.redeclare(this.queue);
          await this.start();
          return;
        } catch (error) {
          if (error instanceof NotFoundError) {
            // A queue deleted by someone else, and not ours to declare: this consumer is over.
            this.#cancelled = true;
            this.#context.ended(this);
            if (this.#onBrokerCancel) this.#onBrokerCancel(error);
            else this.#report(error);
            return;
          }
          this.#report(error);
          // The connection is down: the connection manager resumes us when it is back.
          if (error instanceof ConnectionLostError) return;
        }
      }
    } finally {
      this.#resuming = false;
    }
  }

  #report(error: unknown): void {
    this.#context.events.emit("error", {
      error: channelError(error, `consumer '${this.consumerTag}' on queue '${this.queue}'`),
    });
  }
}
