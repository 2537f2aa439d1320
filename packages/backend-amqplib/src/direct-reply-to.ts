import {
  ConnectionLostError,
  type Delivery,
  MessageStateError,
  type PublishRequest,
  type ReplyDestination,
  type ReplyHandlers,
} from "@carrot/core/backend";
import type { ConfirmChannel, Message } from "amqplib";
import { rawMessage } from "./amqp-message.js";
import type { ConnectionManager } from "./connection-manager.js";
import { ConfirmPublisher } from "./publish-confirms.js";

/** RabbitMQ's pseudo-queue of direct reply-to: a request's `replyTo`, rewritten by the broker per channel. */
export const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

/** A request whose replies come back by direct reply-to: it must go out on the channel that consumes them. */
export function isDirectReplyRequest(request: PublishRequest): boolean {
  return request.message.properties.replyTo === DIRECT_REPLY_TO;
}

/**
 * A connection's reply destination on RabbitMQ: direct reply-to, no queue
 * at all. A confirm channel of its own consumes `amq.rabbitmq.reply-to`
 * (noAck, as RabbitMQ requires) before anything is published on it, and
 * the requests go out on that same channel (RabbitMQ ties each reply to the
 * channel its request came on). Nothing is left on the broker when the
 * requester dies: the broker forgets the pseudo-queue with the channel, and
 * a reply to it is dropped. Replies are at most once: when the channel
 * closes (connection lost, channel error), the replies still to come are
 * lost, and `lost` says so, so that the requests waiting fail at once with
 * ConnectionLostError instead of timing out.
 */
export class DirectReplies implements ReplyDestination {
  readonly replyTo = DIRECT_REPLY_TO;
  /** Publishes the requests, on the channel that receives their replies. */
  readonly publisher: ConfirmPublisher;
  #state: "opening" | "open" | "closed" = "opening";

  constructor(
    manager: ConnectionManager,
    readonly handlers: ReplyHandlers,
    onChannelError: (error: Error) => void,
  ) {
    this.publisher = new ConfirmPublisher(manager, onChannelError, {
      prepare: (channel) => this.#consume(channel),
      closed: () => this.#channelClosed(),
    });
  }

  /** Open and not lost: requests go out on its channel. */
  get active(): boolean {
    return this.#state === "open";
  }

  /** Opens the channel and starts consuming replies on it. */
  async open(): Promise<void> {
    await this.publisher.ready();
    if (this.#state === "opening") this.#state = "open";
  }

  /** Waits (bounded) for the requests in flight to be confirmed, then closes the channel. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    await this.publisher.idle(CLOSE_CONFIRM_WAIT);
    await this.publisher.close();
  }

  async #consume(channel: ConfirmChannel): Promise<void> {
    const { consumerTag } = await channel.consume(
      DIRECT_REPLY_TO,
      (message) => {
        if (message) this.handlers.reply(replyDelivery(message, consumerTag));
      },
      { noAck: true },
    );
  }

  #channelClosed(): void {
    if (this.#state !== "open") return;
    this.#state = "closed";
    this.handlers.lost(
      new ConnectionLostError(
        "the RabbitMQ channel that receives the replies (direct reply-to) closed, and with it the replies still to come: send the request again",
      ),
    );
  }
}

/** How long `close` lets the requests in flight collect their confirms. */
const CLOSE_CONFIRM_WAIT = 5_000;

/** A reply as a delivery that needs no settle: direct reply-to is consumed with noAck. */
function replyDelivery(message: Message, consumerTag: string): Delivery {
  const refuse = () =>
    Promise.reject(
      new MessageStateError(
        "a reply came by direct reply-to, consumed with noAck: there is nothing to settle",
      ),
    );
  const { exchange, routingKey, redelivered } = message.fields;
  return {
    message: rawMessage(message),
    info: { exchange, routingKey, redelivered, queue: DIRECT_REPLY_TO, consumerTag },
    ack: refuse,
    reject: refuse,
  };
}
