/**
 * How many messages a `wait({ limit })` may start: one consumer's, or one
 * shared by the consumers of a ConsumerSet, so that together they start
 * exactly `limit` however their deliveries interleave. A message past it is
 * handed back to the broker before any callback sees it.
 */
export class MessageBudget {
  #started = 0;

  /** @param limit messages in all; undefined for no limit */
  constructor(readonly limit: number | undefined) {}

  /** Claims a start for one message: false once `limit` have started. */
  take(): boolean {
    if (this.limit !== undefined && this.#started >= this.limit) return false;
    this.#started++;
    return true;
  }

  /** Every message the limit allows has started: the subscription can stop. */
  get spent(): boolean {
    return this.limit !== undefined && this.#started >= this.limit;
  }
}
