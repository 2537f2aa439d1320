import {
  type BindingDeclaration,
  type DeadLetterReason,
  deadLetterHeaders,
  type ExchangeDeclaration,
  NotFoundError,
  newHeaders,
  type QueueDeclaration,
  type RawMessage,
  Topology,
  UnroutableError,
} from "@carrot/core/backend";
import { MemoryQueue, type QueueHost } from "./memory-queue.js";
import type { StoredMessage } from "./stored-message.js";

const named = new Map<string, MemoryBroker>();

/**
 * The broker itself: exchanges, bindings (core's Topology, the same routing
 * every virtual backend uses) and queues. Every Connection to `memory://name`
 * in one process shares the broker of that name; a `new MemoryBroker()` passed
 * to a MemoryBackend is private to it.
 */
export class MemoryBroker implements QueueHost {
  readonly #topology = new Topology();
  readonly #queues = new Map<string, MemoryQueue>();

  /** The process-wide broker of this name (created on first use). */
  static named(name: string): MemoryBroker {
    let broker = named.get(name);
    if (!broker) {
      broker = new MemoryBroker();
      named.set(name, broker);
    }
    return broker;
  }

  declareExchange(exchange: ExchangeDeclaration): void {
    this.#topology.declareExchange(exchange);
  }

  deleteExchange(name: string): void {
    this.#topology.deleteExchange(name);
  }

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

  queue(name: string, connection: object): MemoryQueue {
    const queue = this.#queues.get(name);
    if (!queue) throw new NotFoundError(`no queue named '${name}': declare it first`);
    queue.assertAccess(connection);
    return queue;
  }

  bind(binding: BindingDeclaration, connection: object): void {
    this.queue(binding.queue, connection);
    this.#topology.bind(binding);
  }

  unbind(binding: BindingDeclaration, connection: object): void {
    this.queue(binding.queue, connection);
    this.#topology.unbind(binding);
  }

  removeQueue(name: string): void {
    this.#queues.get(name)?.destroy();
    this.#queues.delete(name);
    this.#topology.deleteQueue(name);
  }

  /** Routes and enqueues at once (within this call), so fan-out is atomic. */
  publish(exchange: string, routingKey: string, message: RawMessage, mandatory: boolean): void {
    const queues = this.#topology.route(exchange, routingKey, message.headers);
    if (queues.length === 0 && mandatory) {
      throw new UnroutableError(
        `no queue is bound to exchange '${exchange}' for routing key '${routingKey}'; the message was not stored`,
      );
    }
    this.#enqueue(queues, exchange, routingKey, message);
  }

  deadLetter(queue: MemoryQueue, stored: StoredMessage, reason: DeadLetterReason): void {
    const args = queue.declaration.arguments;
    const exchange = args.deadLetterExchange;
    if (exchange === undefined) return;
    const routingKey = args.deadLetterRoutingKey ?? stored.routingKey;
    const { expiration: _expired, ...properties } = stored.message.properties;
    const headers = deadLetterHeaders(stored.message.headers, {
      queue: queue.name,
      exchange: stored.exchange,
      routingKey: stored.routingKey,
      reason,
    });
    let queues: string[];
    try {
      queues = this.#topology.route(exchange, routingKey, headers);
    } catch {
      return; // as in RabbitMQ, a dead-letter exchange that does not exist drops the message
    }
    this.#enqueue(queues, exchange, routingKey, { ...stored.message, headers, properties });
  }

  #enqueue(queues: string[], exchange: string, routingKey: string, message: RawMessage): void {
    queues.forEach((name, i) => {
      // Each queue gets its own copy of the mutable parts (the body is never
      // mutated); headers, as on every backend, in an object without a prototype.
      const headers = Object.assign(newHeaders(), message.headers);
      const copy =
        i === 0
          ? { ...message, headers }
          : { ...message, headers, properties: { ...message.properties } };
      this.#queues.get(name)?.enqueue({ message: copy, exchange, routingKey, redelivered: false });
    });
  }
}
