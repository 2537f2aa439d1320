import { type PublishRequest, type RawMessage, UnroutableError } from "@carrot/core/backend";
import { stashHistory } from "./delay-history.js";
import { delayLevel } from "./delay-levels.js";
import { type DelayPair, delayPair } from "./delay-topology.js";

/** What a DelayedPublisher needs of the backend. */
export interface DelayedPublisherContext {
  /** Whether the pair is declared on this connection and its exchange not since found missing. */
  declared(pair: DelayPair): boolean;
  /** Declares the pair's exchange, queue and binding, and keeps them for topology recovery. */
  declare(pair: DelayPair): Promise<void>;
  /** Publishes on the confirm channel: resolves on the broker's ack. */
  publish(request: PublishRequest): Promise<void>;
}

/**
 * Delayed sends on RabbitMQ without plugins: each goes to the delay pair of
 * its target exchange and delay level (declared on first use), which holds it
 * for the level's time and then dead-letters it to the target exchange with
 * its routing key. It is published `mandatory`, so that a delay queue deleted
 * behind this connection's back is declared again instead of the message
 * being confirmed and dropped; the send resolves once the delay queue has it.
 */
export class DelayedPublisher {
  readonly #context: DelayedPublisherContext;
  /** Declarations under way, by pair name: concurrent sends to a new level declare it once. */
  readonly #declaring = new Map<string, Promise<void>>();

  constructor(context: DelayedPublisherContext) {
    this.#context = context;
  }

  /** Sends `request` to wait `delay` ms, rounded up to its level (see delay-levels.ts). */
  async publish(request: PublishRequest, delay: number): Promise<void> {
    const pair = delayPair(request.exchange, delayLevel(delay));
    if (!this.#context.declared(pair)) await this.#declare(pair);
    const delayed: PublishRequest = {
      exchange: pair.exchange.name,
      routingKey: request.routingKey,
      message: delayedMessage(request.message),
      mandatory: true,
    };
    try {
      await this.#context.publish(delayed);
    } catch (error) {
      if (!(error instanceof UnroutableError)) throw error;
      // The delay queue was deleted (or unbound) by someone else: nothing was stored.
      await this.#declare(pair);
      await this.#context.publish(delayed);
    }
  }

  #declare(pair: DelayPair): Promise<void> {
    const name = pair.queue.name;
    let declaring = this.#declaring.get(name);
    if (!declaring) {
      declaring = this.#context.declare(pair).finally(() => this.#declaring.delete(name));
      this.#declaring.set(name, declaring);
    }
    return declaring;
  }
}

/**
 * The message as it waits in a delay queue: its dead-letter history stashed
 * away from RabbitMQ (see delay-history.ts; restored when it arrives), and
 * without `expiration`, which would expire it from the delay queue early and
 * so deliver it early. RabbitMQ removes the expiration of every message it
 * dead-letters anyway, so a delayed message arrives without one either way.
 */
export function delayedMessage(message: RawMessage): RawMessage {
  const { expiration: _dropped, ...properties } = message.properties;
  return { ...message, headers: stashHistory(message.headers), properties };
}
