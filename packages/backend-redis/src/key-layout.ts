/**
 * Every key this backend writes. Keys of one queue share the Cluster hash tag
 * `{prefix:queue}`, so each queue lives in one slot; the topology (exchanges
 * and bindings) shares the tag `{prefix}`.
 */
export class KeyLayout {
  constructor(
    /** Starts every key: the `prefix` setting, default "carrot". Backends with different prefixes share nothing. */
    readonly prefix: string,
  ) {}

  /** The consumer group every queue's stream has. */
  readonly group = "carrot";

  /** The queue's messages: a stream read through the consumer group `group`. */
  stream(queue: string): string {
    return `{${this.prefix}:${queue}}:stream`;
  }

  /** Stream of entries waiting to be re-published to the queue's dead-letter exchange. */
  dead(queue: string): string {
    return `{${this.prefix}:${queue}}:dead`;
  }

  /** Hash: `decl` (JSON declaration), `ttl`, `maxlen`. Its existence is the queue's. */
  queueMeta(queue: string): string {
    return `{${this.prefix}:${queue}}:meta`;
  }

  /** Set of the exchanges the queue is bound to, so that deleting it unbinds it. */
  queueBound(queue: string): string {
    return `{${this.prefix}:${queue}}:bound`;
  }

  /** Sorted set: queue -> when it next needs the sweeper (expiry, or 0 for dead letters to drain). */
  due(): string {
    return `{${this.prefix}}:due`;
  }

  /**
   * Sorted set of delayed messages: sequence number -> due time (ms, Redis's
   * clock). In the topology's slot, with the version keys a release checks.
   */
  delayed(): string {
    return `{${this.prefix}}:delayed`;
  }

  /** Hash of the delayed messages themselves: `<seq>:b` body, `<seq>:m` envelope JSON. */
  delayedMessages(): string {
    return `{${this.prefix}}:delayed:messages`;
  }

  /** Counter that numbers delayed messages: equal due times keep their send order. */
  delayedSequence(): string {
    return `{${this.prefix}}:delayed:seq`;
  }

  /** Hash: exchange name -> JSON declaration. */
  exchanges(): string {
    return `{${this.prefix}}:exchanges`;
  }

  /** Hash: binding JSON -> queue name. */
  bindings(exchange: string): string {
    return `{${this.prefix}}:bindings:${exchange}`;
  }

  /** A new random value whenever the exchange's bindings change: publishers' caches check it. */
  version(exchange: string): string {
    return `{${this.prefix}}:version:${exchange}`;
  }
}
