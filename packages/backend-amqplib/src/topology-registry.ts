import type {
  BindingDeclaration,
  ExchangeDeclaration,
  QueueDeclaration,
} from "@carrot/core/backend";

/**
 * What this connection declared, in declaration order, so that a reconnect
 * can declare it again: exchanges, then queues, then bindings. Deleting or
 * unbinding through the backend forgets the item, so recovery never brings
 * back what the application removed.
 */
export class TopologyRegistry {
  readonly exchanges = new Map<string, ExchangeDeclaration>();
  readonly queues = new Map<string, QueueDeclaration>();
  readonly #bindings = new Map<string, BindingDeclaration>();

  get bindings(): IterableIterator<BindingDeclaration> {
    return this.#bindings.values();
  }

  addExchange(exchange: ExchangeDeclaration): void {
    this.exchanges.set(exchange.name, exchange);
  }

  /** Server-named queues ("") get a new name each time: nothing to recover by name. */
  addQueue(queue: QueueDeclaration): void {
    if (queue.name !== "") this.queues.set(queue.name, queue);
  }

  addBinding(binding: BindingDeclaration): void {
    this.#bindings.set(bindingKey(binding), binding);
  }

  removeBinding(binding: BindingDeclaration): void {
    this.#bindings.delete(bindingKey(binding));
  }

  bindingsOf(queue: string): BindingDeclaration[] {
    return [...this.#bindings.values()].filter((binding) => binding.queue === queue);
  }

  forgetQueue(name: string): void {
    this.queues.delete(name);
    for (const [key, binding] of this.#bindings)
      if (binding.queue === name) this.#bindings.delete(key);
  }

  forgetExchange(name: string): void {
    this.exchanges.delete(name);
    for (const [key, binding] of this.#bindings)
      if (binding.exchange === name) this.#bindings.delete(key);
  }
}

function bindingKey({ queue, exchange, routingKey, arguments: args }: BindingDeclaration): string {
  return JSON.stringify([queue, exchange, routingKey, args ?? {}]);
}
