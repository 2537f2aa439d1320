import type { Message } from "./message.js";

/** Settled messages kept before the list is compacted: bounds what it holds past the unsettled ones. */
const SLACK = 256;

/**
 * The messages one consume session handed to user code, for the ones still
 * unsettled when it ends (they are requeued). A settle only counts down:
 * no Set entry made and dropped per message on the hottest path of a
 * consumer. The settled ones are dropped in one pass once `SLACK` of them
 * have gathered, so the list stays within the unsettled ones plus `SLACK`.
 */
export class UnsettledMessages {
  #messages: Message<unknown>[] = [];
  #unsettled = 0;

  /** A message handed to user code, not settled yet. */
  add(message: Message<unknown>): void {
    if (this.#messages.length >= this.#unsettled + SLACK) this.#compact();
    this.#messages.push(message);
    this.#unsettled++;
  }

  /** One of them was settled (its state is no longer "pending"). */
  settled(): void {
    this.#unsettled--;
  }

  /** The unsettled ones in the order they were added, and forgets them (they still count until settled). */
  takeAll(): Message<unknown>[] {
    this.#compact();
    const left = this.#messages;
    this.#messages = [];
    return left;
  }

  /** Keeps the pending messages only, in order, in place. */
  #compact(): void {
    const messages = this.#messages;
    let kept = 0;
    for (const message of messages) if (message.state === "pending") messages[kept++] = message;
    messages.length = kept;
  }
}
