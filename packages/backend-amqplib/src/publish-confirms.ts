import {
  CarrotError,
  ConnectionLostError,
  clientError,
  InvalidOptionsError,
  PublishNackedError,
  PublishOutcomeUnknownError,
  type PublishRequest,
  UnroutableError,
} from "@carrot/core/backend";
import type { ConfirmChannel, Message } from "amqplib";
import { brokerText } from "./amqp-errors.js";
import { bodyBuffer, publishOptions } from "./amqp-message.js";
import { boundedClose } from "./bounded-close.js";
import type { ConnectionManager } from "./connection-manager.js";

/** Writes at most this many frames ahead of the socket per publish channel before `publish` waits. */
const WRITE_HIGH_WATER_MARK = 2048;

/** What a user of the publisher does with each channel it opens: see `ConfirmPublisher`. */
export interface ChannelHooks {
  /** Runs on each new channel before anything is published on it (a rejection fails the publish that opened it). */
  prepare?(channel: ConfirmChannel): Promise<void>;
  /** Each channel's end: lost with its connection, closed by the broker, retired or closed. */
  closed?(): void;
}

interface InFlight {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer;
  /** The broker's reason, once a basic.return for this message arrived. */
  returned?: string;
}

/**
 * Publishing on a confirm channel. Each send resolves on the broker's ack and
 * rejects on its nack, on a basic.return (mandatory and unroutable), or with
 * PublishOutcomeUnknownError when the channel dies before the confirm. Many
 * sends are in flight at once; when amqplib's write buffer is full (`publish`
 * returned false) new sends wait for 'drain' instead of piling up in memory.
 */
export class ConfirmPublisher {
  readonly #manager: ConnectionManager;
  readonly #onChannelError: (error: Error) => void;
  #channel?: Promise<ConfirmChannel>;
  /** The channel `#channel` resolved to: a retired one closing later must not clear its successor. */
  #live?: ConfirmChannel;
  /** `#live` once `prepare` has run on it: what a send may write on at once. */
  #prepared?: ConfirmChannel;
  #drained?: Promise<void>;
  /** Sends waiting for the channel or for 'drain': later sends queue behind them, in order. */
  #waiting = 0;
  /** Unconfirmed mandatory sends, in publish order: where a basic.return is matched. */
  readonly #mandatory = new Set<InFlight>();
  /** Set while amqplib runs the callbacks of a basic.nack. */
  #nacking = false;
  #closeCause?: Error;
  #inFlight = 0;
  #idle?: () => void;

  readonly #hooks: ChannelHooks;

  constructor(
    manager: ConnectionManager,
    onChannelError: (error: Error) => void,
    hooks: ChannelHooks = {},
  ) {
    this.#manager = manager;
    this.#onChannelError = onChannelError;
    this.#hooks = hooks;
  }

  /** Opens the channel now, if none is open: what `prepare` does on it fails here. */
  async ready(): Promise<void> {
    await this.#currentChannel();
  }

  /**
   * Written at once, in the caller's tick, when the channel is open and
   * nothing waits before this send (no promise but the one returned);
   * otherwise once the channel is open and amqplib's buffer has drained.
   */
  publish(request: PublishRequest): Promise<void> {
    const channel = this.#prepared;
    if (channel === undefined || channel !== this.#live || this.#drained || this.#waiting > 0)
      return this.#publishWhenReady(request);
    return this.#write(channel, request);
  }

  async #publishWhenReady(request: PublishRequest): Promise<void> {
    this.#waiting++;
    let channel: ConfirmChannel;
    try {
      channel = await this.#currentChannel();
      // Checked again after every wait, with no await between the check and
      // the write: many sends resume in the same tick.
      while (this.#drained) {
        await this.#drained;
        channel = await this.#currentChannel();
      }
    } finally {
      this.#waiting--;
    }
    return this.#write(channel, request);
  }

  #write(channel: ConfirmChannel, request: PublishRequest): Promise<void> {
    const { exchange, routingKey, message, mandatory } = request;
    const userId = message.properties.userId;
    if (userId !== undefined && userId !== this.#manager.endpoint.username) {
      // RabbitMQ would close the channel (and fail every send in flight on it).
      return Promise.reject(
        new InvalidOptionsError(
          `userId '${userId}' is not the connected user '${this.#manager.endpoint.username}'; RabbitMQ only accepts its own user name there`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const body = bodyBuffer(message.body);
      // Only a mandatory send can come back as a basic.return.
      const entry: InFlight | undefined = mandatory ? { exchange, routingKey, body } : undefined;
      const settle = (error: Error | null) => {
        if (entry) this.#mandatory.delete(entry);
        if (--this.#inFlight === 0) this.#idle?.();
        if (error === null) {
          if (entry?.returned === undefined) resolve();
          else
            reject(
              new UnroutableError(
                `no queue is bound to receive it: exchange '${exchange}', routing key '${routingKey}' (${entry.returned}); nothing was stored`,
              ),
            );
        } else if (this.#nacking) {
          reject(
            new PublishNackedError(
              `RabbitMQ refused the message (basic.nack) on exchange '${exchange}'; it is not on the broker, send it again`,
            ),
          );
        } else {
          const cause = this.#closeCause;
          const message = `the channel closed before RabbitMQ confirmed the message to exchange '${exchange}' (${cause ? brokerText(cause) : "connection lost"}); it may or may not be on the broker`;
          reject(
            cause
              ? clientError(PublishOutcomeUnknownError, message, cause)
              : new PublishOutcomeUnknownError(message),
          );
        }
      };
      let writable: boolean;
      try {
        writable = channel.publish(
          exchange,
          routingKey,
          body,
          publishOptions(message, mandatory),
          settle,
        );
      } catch (error) {
        // Encoding failed (nothing written) or the channel is already gone (nothing sent).
        if (error instanceof RangeError || error instanceof TypeError) {
          reject(
            clientError(
              InvalidOptionsError,
              `the message cannot be encoded as AMQP: ${error.message}`,
              error,
            ),
          );
        } else {
          reject(
            clientError(
              ConnectionLostError,
              `the message was not sent: the publish channel is closed (${(error as Error).message})`,
              error,
            ),
          );
        }
        return;
      }
      this.#inFlight++;
      if (entry) this.#mandatory.add(entry);
      if (!writable) this.#drained ??= drainOf(channel).finally(() => (this.#drained = undefined));
    });
  }

  /** Resolves when every send in flight is settled, or after `ms`. */
  idle(ms: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async close(): Promise<void> {
    const channel = await this.#channel?.catch(() => undefined);
    this.#channel = undefined;
    this.#prepared = undefined;
    await boundedClose(channel);
  }

  #currentChannel(): Promise<ConfirmChannel> {
    this.#channel ??= this.#open();
    return this.#channel;
  }

  #open(): Promise<ConfirmChannel> {
    return (async () => {
      const model = await this.#manager.ready();
      const channel = await model.createConfirmChannel({ highWaterMark: WRITE_HIGH_WATER_MARK });
      this.#closeCause = undefined;
      this.#live = channel;
      // Listeners that must run before amqplib's own confirm handler go first.
      channel.prependListener("nack", () => {
        this.#nacking = true;
        this.#retire(channel);
      });
      channel.on("nack", () => {
        this.#nacking = false;
      });
      channel.on("return", (returned: Message) => this.#matchReturn(returned));
      channel.on("error", (error: Error) => {
        this.#closeCause = error;
        this.#onChannelError(error);
      });
      channel.once("close", () => {
        this.#hooks.closed?.();
        if (this.#live !== channel) return;
        this.#live = undefined;
        this.#channel = undefined;
      });
      if (this.#hooks.prepare) {
        try {
          await this.#hooks.prepare(channel);
        } catch (error) {
          await boundedClose(channel);
          throw error;
        }
      }
      this.#prepared = channel;
      return channel;
    })().catch((error: unknown) => {
      this.#channel = undefined;
      if (error instanceof CarrotError) throw error;
      throw clientError(
        ConnectionLostError,
        `the message was not sent: no publish channel could be opened (${(error as Error).message})`,
        error,
      );
    });
  }

  /**
   * A channel that got a nack takes no more sends: the next send opens a new
   * one, and this one closes once its sends in flight are confirmed. RabbitMQ
   * 3.10 nacks every later publish on a channel that published to a quorum
   * queue whose leader's node died (seen on this project's cluster test: 20 s
   * of nacks on the old channel, acks on a new one 1 s after the node died).
   */
  #retire(channel: ConfirmChannel): void {
    if (this.#live !== channel) return;
    this.#live = undefined;
    this.#channel = undefined;
    channel.waitForConfirms().then(
      () => boundedClose(channel),
      () => boundedClose(channel),
    );
  }

  /**
   * RabbitMQ sends a basic.return before the confirm of the same message, and
   * returns in publish order, but names no delivery tag. The oldest
   * unconfirmed mandatory send with the same exchange, key and body is the
   * one returned.
   */
  #matchReturn(returned: Message): void {
    const { exchange, routingKey, replyText } = returned.fields as unknown as {
      exchange: string;
      routingKey: string;
      replyText: string;
    };
    for (const entry of this.#mandatory) {
      if (
        entry.returned === undefined &&
        entry.exchange === exchange &&
        entry.routingKey === routingKey &&
        entry.body.equals(returned.content)
      ) {
        entry.returned = replyText;
        return;
      }
    }
  }
}

function drainOf(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.off("drain", done);
      channel.off("close", done);
      resolve();
    };
    channel.on("drain", done);
    channel.on("close", done);
  });
}
