import {
  type BindingDeclaration,
  type DeadLetterReason,
  deadLetterMessage,
  deadLetterQueues,
  deadLetterTarget,
  type ExchangeDeclaration,
  NotFoundError,
  newHeaders,
  type QueueDeclaration,
  type RawMessage,
  Topology,
  UnroutableError,
} from "@carrot/core/backend";
import { type DelayedMessage, DelayedMessages } from "./delayed-messages.js";
import { MemoryQueue } from "./memory-queue.js";
import type { StoredMessage } from "./stored-message.js";

const named = new Map<string, MemoryBroker>();

/**
 * The broker itself: exchanges, bindings (core's Topology, the same routing
 * every virtual backend uses) and queues. Every Connection to `memory://name`
 * in one process shares the broker of that name; a `new MemoryBroker()` passed
 * to a MemoryBackend is private to it.
 *
 * Messages sent with a delay are the broker's, not their connection's: like
 * its queues, they outlive every connection (and are routed when due with no
 * connection open) but not the process.
 *
 * Applications only create and share brokers: its other methods are the
 * MemoryBackend's (marked internal, so that the API reference shows what an
 * application uses), and a MemoryQueue reaches it as its `QueueHost`.
 */
export class MemoryBroker {
  readonly #topology = new Topology();
  readonly #queues = new Map<string, MemoryQueue>();
  readonly #delayed = new DelayedMessages((delayed) => this.#routeDue(delayed));

  /** The process-wide broker of this name (created on first use). */
  static named(name: string): MemoryBroker {
    let broker = named.get(name);
    if (!broker) {
      broker = new MemoryBroker();
      named.set(name, broker);
    }
    return broker;
  }

  /** @internal The MemoryBackend's side of `declareExchange`. */
  declareExchange(exchange: ExchangeDeclaration): void {
    this.#topology.declareExchange(exchange);
  }

  /** @internal The MemoryBackend's side of `checkExchange`: `NotFoundError` unless it exists. */
  checkExchange(name: string): void {
    if (!this.#topology.exchange(name))
      throw new NotFoundError(`no exchange named '${name}': declare it first`);
  }

  /** @internal The MemoryBackend's side of `deleteExchange`. */
  deleteExchange(name: string): void {
    this.#topology.deleteExchange(name);
  }

  /** @internal The MemoryBackend's side of `declareQueue`. */
  declareQueue(queue: QueueDeclaration, connection: object): void {
    const existing = this.#queues.get(queue.name);
    existing?.assertAccess(connection);
    this.#topology.declareQueue(queue);
    if (!existing)
      this.#queues.set(
        queue.name,
        new MemoryQueue(queue, this, queue.exclusive ? connection : undefined),
      );
  }

  /** @internal The queue, if it exists and `connection` may use it (`NotFoundError`, `ResourceLockedError`). */
  queue(name: string, connection: object): MemoryQueue {
    const queue = this.#queues.get(name);
    if (!queue) throw new NotFoundError(`no queue named '${name}': declare it first`);
    queue.assertAccess(connection);
    return queue;
  }

  /** @internal The MemoryBackend's side of `bindQueue`. */
  bind(binding: BindingDeclaration, connection: object): void {
    this.queue(binding.queue, connection);
    this.#topology.bind(binding);
  }

  /** @internal The MemoryBackend's side of `unbindQueue`. */
  unbind(binding: BindingDeclaration, connection: object): void {
    this.queue(binding.queue, connection);
    this.#topology.unbind(binding);
  }

  /** @internal Deletes a queue: for `deleteQueue`, a closing connection's exclusive queues, and a queue's own auto-delete. */
  removeQueue(name: string): void {
    this.#queues.get(name)?.destroy();
    this.#queues.delete(name);
    this.#topology.deleteQueue(name);
  }

  /**
   * @internal Routes and enqueues at once (within this call), so fan-out is
   * atomic. Returns what the publish's confirm waits for when a queue's flow
   * control holds it, else undefined.
   */
  publish(
    exchange: string,
    routingKey: string,
    message: RawMessage,
    mandatory: boolean,
  ): Promise<void> | undefined {
    const queues = this.#topology.route(exchange, routingKey, message.headers);
    if (queues.length === 0 && mandatory) {
      throw new UnroutableError(
        `no queue is bound to exchange '${exchange}' for routing key '${routingKey}'; the message was not stored`,
      );
    }
    return this.#enqueue(queues, exchange, routingKey, message);
  }

  /**
   * @internal Holds a message for `delay` ms, then routes it by the bindings
   * in force when it is due. Its exchange must exist now, as for a publish
   * at once (`NotFoundError`); whether it reaches a queue is only known then.
   */
  publishLater(exchange: string, routingKey: string, message: RawMessage, delay: number): void {
    if (exchange !== "" && !this.#topology.exchange(exchange)) {
      throw new NotFoundError(
        `no exchange named '${exchange}': declare it before publishing to it, with a delay or without`,
      );
    }
    this.#delayed.add(exchange, routingKey, message, delay);
  }

  /** @internal Republishes a message that died in `queue` to its dead-letter exchange, if it has one. */
  deadLetter(queue: MemoryQueue, stored: StoredMessage, reason: DeadLetterReason): void {
    const { exchange, routingKey } = stored;
    const target = deadLetterTarget(queue.declaration.arguments, routingKey);
    if (!target) return;
    const message = deadLetterMessage(stored.message, {
      queue: queue.name,
      exchange,
      routingKey,
      reason,
    });
    let queues: string[];
    try {
      queues = deadLetterQueues(
        message,
        this.#topology.route(target.exchange, target.routingKey, message.headers),
      );
    } catch {
      return; // as in RabbitMQ, a dead-letter exchange that does not exist drops the message
    }
    this.#enqueue(queues, target.exchange, target.routingKey, message);
  }

  #routeDue({ exchange, routingKey, message }: DelayedMessage): void {
    let queues: string[];
    try {
      queues = this.#topology.route(exchange, routingKey, message.headers);
    } catch {
      return; // its exchange was deleted while it waited: dropped, as an unroutable message is
    }
    this.#enqueue(queues, exchange, routingKey, message);
  }

  /** Returns the first flow-control hold among the queues: their dispatches all run in the same later turn. */
  #enqueue(
    queues: string[],
    exchange: string,
    routingKey: string,
    message: RawMessage,
  ): Promise<void> | undefined {
    let held: Promise<void> | undefined;
    for (let i = 0; i < queues.length; i++) {
      // Each queue gets its own copy of the mutable parts (the body is never
      // mutated); headers, as on every backend, in an object without a prototype.
      const headers = Object.assign(newHeaders(), message.headers);
      const copy =
        i === 0
          ? { ...message, headers }
          : { ...message, headers, properties: { ...message.properties } };
      const wait = this.#queues
        .get(queues[i]!)
        ?.enqueue({ message: copy, exchange, routingKey, deliveries: 0 });
      held ??= wait;
    }
    return held;
  }
}
