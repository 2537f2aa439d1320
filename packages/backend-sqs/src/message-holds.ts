import type { Message } from "@aws-sdk/client-sqs";
import {
  ConnectionLostError,
  clientError,
  PublishNackedError,
  PublishOutcomeUnknownError,
} from "@carrot/core/backend";
import { bodyIntact } from "./body-checksum.js";
import { dueTime, sortArrivals } from "./delayed-delivery.js";
import { copyOf, entrySize } from "./message-copies.js";
import type { QueueInfo } from "./queue-directory.js";
import type { SendEntry, SqsBatches } from "./sqs-batches.js";

/** How long holds may be. */
export interface HoldLimits {
  /** The longest `DelaySeconds` a re-sent copy gets (SQS: 900). */
  maxNativeDelay: number;
  /** The longest visibility a hold asks for (SQS: 12 hours from the receive, less a minute). */
  holdSeconds: number;
}

/**
 * Holds back the messages received before they are due (delayed-delivery.ts
 * says which), never delivering one early and never losing one:
 *
 * - **Standard queue: re-sent.** A copy (same body and attributes, the due
 *   time, the same fair-queue group) goes with `DelaySeconds` = the time
 *   left, at most `maxNativeDelay`; the original is deleted only once SQS
 *   has confirmed the copy. The copy is a new message: the holds never count
 *   as receives (nor toward a `RedrivePolicy`'s `maxReceiveCount`), and a
 *   delayed message is never in flight while it waits, so long delays do not
 *   fill SQS's limit of in-flight messages per queue. Costs: one send, one
 *   delete and one receive per 15 minutes of delay past the first. A process
 *   that dies between the copy and the delete leaves both: the message is
 *   then delivered twice (at least once, as everywhere in carrot).
 * - **FIFO queue: made invisible** (ChangeMessageVisibility) until due, 12
 *   hours at most per receive. A copy would go behind the rest of its group
 *   and need a new deduplication id; kept in place, the message stays first
 *   in its group, and SQS hands out no later message of that group while it
 *   is held: on a FIFO queue, order within a group wins over delays. Each
 *   hold is a receive that SQS counts (also toward a `maxReceiveCount`); the
 *   delivery count leaves them out (`deliveryCount`).
 * - A re-send that fails falls back to the FIFO way. A hold that fails
 *   altogether leaves the message to its visibility timeout, after which it
 *   is received, and held, again; that is reported.
 */
export class MessageHolds {
  readonly #batches: SqsBatches;
  readonly #limits: HoldLimits;
  readonly #onError: (error: Error) => void;

  constructor(batches: SqsBatches, limits: HoldLimits, onError: (error: Error) => void) {
    this.#batches = batches;
    this.#limits = limits;
    this.#onError = onError;
  }

  /**
   * The messages of one receive that are due, to be delivered now; the
   * others are held back, and so, on a FIFO queue, are the due messages of
   * their groups received behind them (given back, visible at once: their
   * group stays blocked by the held one). `held` resolves once every hold is
   * done (never rejects: failures are reported).
   */
  take(
    info: QueueInfo,
    received: Message[],
    now = Date.now(),
  ): { ready: Message[]; held: Promise<void> } {
    const { ready, early, behind } = sortArrivals(received, info.fifo, now);
    if (early.length === 0 && behind.length === 0) return { ready, held: Promise.resolve() };
    const holds = early.map(({ message, remainingMs }) =>
      info.fifo ? this.#hide(info, message, remainingMs) : this.#resend(info, message, remainingMs),
    );
    for (const message of behind) {
      holds.push(
        this.#batches
          .changeVisibility(info.url, message.ReceiptHandle as string, 0)
          .catch(() => undefined), // its visibility timeout brings it back all the same
      );
    }
    return { ready, held: Promise.all(holds).then(() => undefined) };
  }

  /**
   * A copy, due at the same time, with DelaySeconds up to the time left;
   * then the original goes. A body changed on the way is not copied (the
   * copy would store the change): that message is made invisible instead.
   */
  async #resend(info: QueueInfo, message: Message, remainingMs: number): Promise<void> {
    if (!bodyIntact(message.Body ?? "", message.MD5OfBody))
      return this.#hide(info, message, remainingMs);
    const entry: SendEntry = {
      ...copyOf(info, message, this.#limits.holdSeconds, dueTime(message)),
      delaySeconds: Math.min(Math.ceil(remainingMs / 1000), this.#limits.maxNativeDelay),
    };
    try {
      await this.#batches.send(entry, entrySize(entry));
    } catch (error) {
      this.#onError(resendFailure(info, error));
      return this.#hide(info, message, remainingMs);
    }
    await this.#batches.delete(info.url, message.ReceiptHandle as string).catch(() => undefined);
  }

  /** Invisible until due, or for the longest hold. */
  async #hide(info: QueueInfo, message: Message, remainingMs: number): Promise<void> {
    const seconds = Math.min(Math.ceil(remainingMs / 1000), this.#limits.holdSeconds);
    try {
      await this.#batches.changeVisibility(info.url, message.ReceiptHandle as string, seconds);
    } catch (error) {
      this.#onError(
        clientError(
          ConnectionLostError,
          `a delayed message from '${info.name}' could not be held back until due (${(error as Error).message}): SQS will deliver it again after its visibility timeout, and it will be held back then`,
          error,
        ),
      );
    }
  }
}

/** A hold's re-send failed: reported with the send's own error class, as it is held back otherwise. */
function resendFailure(info: QueueInfo, error: unknown): Error {
  const what = `re-sending a delayed message from '${info.name}' to hold it back until due failed (${(error as Error).message}); it is held back by its visibility instead`;
  return error instanceof PublishOutcomeUnknownError
    ? clientError(
        PublishOutcomeUnknownError,
        `${what}, and is delivered twice if SQS stored the copy`,
        error,
      )
    : clientError(PublishNackedError, what, error);
}
