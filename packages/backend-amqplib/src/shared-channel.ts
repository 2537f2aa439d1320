import type { Channel } from "amqplib";
import { channelError } from "./amqp-errors.js";
import { boundedClose } from "./bounded-close.js";
import type { ConnectionManager } from "./connection-manager.js";

/**
 * A channel opened on first use and again after it closes. RabbitMQ answers
 * a failed declare (or get, or purge) by closing the channel it came on; with
 * `serial`, one operation runs at a time, so that error reaches only the caller
 * that caused it and the next operation gets a fresh channel.
 */
export class SharedChannel {
  readonly #manager: ConnectionManager;
  readonly #serial: boolean;
  #channel?: Promise<Channel>;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(manager: ConnectionManager, { serial }: { serial: boolean }) {
    this.#manager = manager;
    this.#serial = serial;
  }

  /**
   * Runs `op` on the channel and maps its failure to a carrot error. An
   * `idempotent` operation cut off by a lost connection runs again once the
   * connection is back (within the manager's reconnect wait).
   */
  run<T>(what: string, op: (channel: Channel) => Promise<T>, idempotent = true): Promise<T> {
    if (!this.#serial) return this.#attempt(what, op, idempotent);
    const result = this.#tail.then(() => this.#attempt(what, op, idempotent));
    this.#tail = result.catch(() => {});
    return result;
  }

  async #attempt<T>(
    what: string,
    op: (channel: Channel) => Promise<T>,
    idempotent: boolean,
  ): Promise<T> {
    for (;;) {
      const opening = this.#open(what);
      const channel = await opening;
      try {
        return await op(channel);
      } catch (error) {
        const mapped = channelError(error, what);
        // Retried only when the channel ended under the operation (connection
        // lost, or another operation's error on this channel) and the
        // connection is up again or still up: a fresh channel tries again.
        const channelEnded = this.#channel !== opening;
        const brokerRefused = typeof (error as { code?: unknown }).code === "number";
        if (!channelEnded && !brokerRefused) {
          // amqplib failed before sending (an argument it cannot encode) but
          // still waits for a reply that will never come: use a new channel.
          this.#channel = undefined;
          boundedClose(channel);
        }
        if (brokerRefused || !channelEnded || !idempotent || !this.#manager.model) throw mapped;
      }
    }
  }

  #open(what: string): Promise<Channel> {
    this.#channel ??= (async () => {
      const model = await this.#manager.ready();
      const channel = await model.createChannel();
      channel.on("error", () => {}); // the failing operation reports it
      channel.once("close", () => {
        this.#channel = undefined;
      });
      return channel;
    })().catch((error: unknown) => {
      this.#channel = undefined;
      throw channelError(error, what);
    });
    return this.#channel;
  }

  async close(): Promise<void> {
    const channel = await this.#channel?.catch(() => undefined);
    this.#channel = undefined;
    await boundedClose(channel);
  }
}
