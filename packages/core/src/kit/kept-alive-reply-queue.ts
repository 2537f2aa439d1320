import { randomUUID } from "node:crypto";
import {
  type Backend,
  REPLY_QUEUE_PREFIX,
  type ReplyDestination,
  type ReplyHandlers,
  type Subscription,
} from "../contract.js";
import { NotFoundError } from "../errors.js";

/** What a kept-alive reply queue uses of its backend. */
export interface ReplyQueueBackend {
  /** Consumes the queue (noAck), and deletes it on close. */
  readonly backend: Pick<Backend, "consume" | "deleteQueue">;
  /**
   * Milliseconds the queue outlives its owner's last sign of life (the
   * backend's `visibilityTimeout`, say); the owner renews it every third of that.
   */
  readonly expiry: number;
  /** A renewal that failed for another reason than the queue being gone: reported, tried again at the next tick. */
  reportError(error: unknown): void;
}

/**
 * A connection's reply destination on a broker where no queue belongs to a
 * connection (Redis, SQS): a queue named `carrot-reply-<uuid>`, consumed
 * with noAck, made with a sign of life (a key expiry, a tag with a time)
 * that its owner renews every third of `expiry`. When the owner dies, the
 * sign runs out and the queue goes (the broker expires it, or the next
 * requester sweeps it: the backend's part). An owner that finds its queue
 * gone at a renewal (it was silent for longer than `expiry`, or someone
 * deleted it) reports it lost, and core opens another for the next request.
 * Closing deletes the queue at once.
 */
export abstract class KeptAliveReplyQueue implements ReplyDestination {
  /** The queue's name, which requests carry as their `replyTo`. */
  readonly replyTo = `${REPLY_QUEUE_PREFIX}${randomUUID()}`;
  readonly #host: ReplyQueueBackend;
  readonly #handlers: ReplyHandlers;
  #subscription?: Subscription;
  #timer?: NodeJS.Timeout;
  #closed = false;

  constructor(host: ReplyQueueBackend, handlers: ReplyHandlers) {
    this.#host = host;
    this.#handlers = handlers;
  }

  /** Makes the queue, with its first sign of life in the same step (no moment where a death would leave it for good). */
  protected abstract create(): Promise<void>;
  /** Renews the sign of life: false when the queue is gone. Other failures throw. */
  protected abstract renew(): Promise<boolean>;
  /** Why a queue found gone at a renewal is gone: the message the waiting requests fail with. */
  protected abstract goneReason(): string;

  /** Makes the queue, consumes it, and starts renewing. */
  async open(): Promise<void> {
    const { backend, expiry } = this.#host;
    await this.create();
    try {
      this.#subscription = await backend.consume(
        this.replyTo,
        { prefetch: 0, noAck: true, exclusive: false, consumerTag: this.replyTo },
        (delivery) => this.#handlers.reply(delivery),
      );
    } catch (error) {
      await backend.deleteQueue(this.replyTo).catch(() => undefined);
      throw error;
    }
    this.#timer = setInterval(() => void this.#renewal(), expiry / 3);
    this.#timer.unref();
  }

  /** Stops consuming and renewing, and deletes the queue (one already gone is no error). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#subscription?.cancel();
    await this.#host.backend.deleteQueue(this.replyTo).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error; // expired or swept already
    });
  }

  async #renewal(): Promise<void> {
    let alive: boolean;
    try {
      alive = await this.renew();
    } catch (error) {
      this.#host.reportError(error);
      return;
    }
    if (alive || this.#closed) return;
    clearInterval(this.#timer);
    this.#handlers.lost(new NotFoundError(this.goneReason()));
  }
}
