import type {
  BindingDeclaration,
  ExchangeDeclaration,
  Headers,
  QueueDeclaration,
} from "../contract.js";
import { NotFoundError } from "../errors.js";
import { assertSameExchange, assertSameQueue, sameBinding } from "./declarations.js";
import { route } from "./route.js";

/**
 * Exchanges, queues and bindings held in memory, with AMQP's rules:
 * idempotent redeclares, conflicts refused, bindings to a missing exchange or
 * queue refused, and the default exchange ("") routing by queue name.
 * The memory backend keeps its whole topology here; a networked backend can
 * use it as its local cache of a table kept on the broker.
 */
export class Topology {
  readonly #exchanges = new Map<string, ExchangeDeclaration>();
  readonly #queues = new Map<string, QueueDeclaration>();
  readonly #bindings = new Map<string, BindingDeclaration[]>();

  /** Adds the exchange, or checks that the one held is the same (`DeclarationConflictError` otherwise). */
  declareExchange(exchange: ExchangeDeclaration): void {
    const existing = this.#exchanges.get(exchange.name);
    if (existing) {
      assertSameExchange(existing, exchange);
      return;
    }
    this.#exchanges.set(exchange.name, { ...exchange });
    this.#bindings.set(exchange.name, []);
  }

  /** Adds the queue, or checks that the one held is the same (`DeclarationConflictError` otherwise). */
  declareQueue(queue: QueueDeclaration): void {
    const existing = this.#queues.get(queue.name);
    if (existing) {
      assertSameQueue(existing, queue);
      return;
    }
    this.#queues.set(queue.name, { ...queue, arguments: { ...queue.arguments } });
  }

  /** The exchange as declared, or undefined. */
  exchange(name: string): ExchangeDeclaration | undefined {
    return this.#exchanges.get(name);
  }

  /** The queue as declared, or undefined. */
  queue(name: string): QueueDeclaration | undefined {
    return this.#queues.get(name);
  }

  /** Adds the binding once; `NotFoundError` when its exchange or queue is missing, or for the default exchange. */
  bind(binding: BindingDeclaration): void {
    const bindings = this.#bindingsOf(binding.exchange);
    if (!this.#queues.has(binding.queue)) throw missing("queue", binding.queue);
    if (!bindings.some((b) => sameBinding(b, binding))) bindings.push({ ...binding });
  }

  /** Removes the binding if held; `NotFoundError` when its exchange is missing. */
  unbind(binding: BindingDeclaration): void {
    const bindings = this.#bindingsOf(binding.exchange);
    const index = bindings.findIndex((b) => sameBinding(b, binding));
    if (index >= 0) bindings.splice(index, 1);
  }

  /** Deleting an exchange removes its bindings; deleting a missing one is a no-op, as in AMQP. */
  deleteExchange(name: string): void {
    this.#exchanges.delete(name);
    this.#bindings.delete(name);
  }

  /** Deleting a queue removes every binding to it. */
  deleteQueue(name: string): void {
    this.#queues.delete(name);
    for (const [exchange, bindings] of this.#bindings) {
      this.#bindings.set(
        exchange,
        bindings.filter((b) => b.queue !== name),
      );
    }
  }

  /** The queues a message published to `exchange` reaches; throws if the exchange does not exist. */
  route(exchange: string, routingKey: string, headers: Headers): string[] {
    if (exchange === "") return this.#queues.has(routingKey) ? [routingKey] : [];
    const declaration = this.#exchanges.get(exchange);
    if (!declaration) throw missing("exchange", exchange);
    return route(declaration.type, this.#bindings.get(exchange) ?? [], routingKey, headers);
  }

  #bindingsOf(exchange: string): BindingDeclaration[] {
    if (exchange === "") {
      throw new NotFoundError(
        "the default exchange ('') cannot be bound: it routes to the queue named by the routing key",
      );
    }
    const bindings = this.#bindings.get(exchange);
    if (!bindings) throw missing("exchange", exchange);
    return bindings;
  }
}

function missing(kind: "exchange" | "queue", name: string): NotFoundError {
  return new NotFoundError(
    `no ${kind} named '${name}': declare it before binding or publishing to it`,
  );
}
