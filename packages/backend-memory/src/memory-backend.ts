import {
  type Backend,
  BackendEventEmitter,
  type BindingDeclaration,
  type Capabilities,
  ClosedError,
  ConnectionLostError,
  type ConsumeOptions,
  type Delivery,
  type ExchangeDeclaration,
  MessageStateError,
  NotFoundError,
  type PublishRequest,
  type QueueDeclaration,
  type Subscription,
} from "@carrot/core/backend";
import { memoryCapabilities } from "./capabilities.js";
import { MemoryBroker } from "./memory-broker.js";
import type { MemoryQueue, QueueConsumer } from "./memory-queue.js";
import type { StoredMessage } from "./stored-message.js";

export interface MemoryBackendOptions {
  /** The broker to connect to; by default the process-wide broker named "default". */
  broker?: MemoryBroker;
  /** The largest body accepted, in bytes; default 16 MiB (RabbitMQ 4's default). */
  maxMessageSize?: number;
}

/** A delivery not yet settled, and where it goes back to. */
interface Unsettled {
  queue: MemoryQueue;
  stored: StoredMessage;
  consumer?: QueueConsumer;
}

/**
 * One connection to a memory broker. Like an AMQP connection, closing it
 * ends its subscriptions, puts its unacked messages back on their queues
 * (marked redelivered) and deletes the exclusive queues it owns.
 */
export class MemoryBackend extends BackendEventEmitter implements Backend {
  readonly name = "memory";
  readonly capabilities: Capabilities;
  readonly broker: MemoryBroker;
  readonly #unsettled = new Map<number, Unsettled>();
  readonly #subscriptions = new Map<string, { queue: MemoryQueue; consumer: QueueConsumer }>();
  readonly #exclusiveQueues = new Set<string>();
  #nextTag = 1;
  /** Keeps the process alive while it consumes, as an open socket does for network backends. */
  #keepAlive?: NodeJS.Timeout;
  #state: "new" | "open" | "closed" = "new";

  constructor(options: MemoryBackendOptions = {}) {
    super();
    this.broker = options.broker ?? MemoryBroker.named("default");
    this.capabilities = memoryCapabilities(options.maxMessageSize);
  }

  async connect(): Promise<void> {
    this.#assertNotClosed();
    this.#state = "open";
    this.emit("connect", { host: "memory" });
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    for (const { queue, consumer } of this.#subscriptions.values()) queue.removeConsumer(consumer);
    this.#subscriptions.clear();
    this.#stopKeepAlive();
    // Back in delivery order: unshifting the last first leaves the first at the front.
    for (const { queue, stored } of [...this.#unsettled.values()].reverse()) queue.requeue(stored);
    this.#unsettled.clear();
    for (const name of this.#exclusiveQueues) this.broker.removeQueue(name);
    this.#exclusiveQueues.clear();
    this.emit("disconnect", { host: "memory" });
  }

  async declareExchange(exchange: ExchangeDeclaration): Promise<void> {
    this.#assertOpen();
    this.broker.declareExchange(exchange);
  }

  async declareQueue(queue: QueueDeclaration): Promise<void> {
    this.#assertOpen();
    this.broker.declareQueue(queue, this);
    if (queue.exclusive) this.#exclusiveQueues.add(queue.name);
  }

  async bindQueue(binding: BindingDeclaration): Promise<void> {
    this.#assertOpen();
    this.broker.bind(binding, this);
  }

  async unbindQueue(binding: BindingDeclaration): Promise<void> {
    this.#assertOpen();
    this.broker.unbind(binding, this);
  }

  async deleteExchange(name: string): Promise<void> {
    this.#assertOpen();
    this.broker.deleteExchange(name);
  }

  async deleteQueue(name: string): Promise<void> {
    this.#assertOpen();
    this.broker.queue(name, this); // refuses another connection's exclusive queue
    this.broker.removeQueue(name);
    this.#exclusiveQueues.delete(name);
  }

  async purgeQueue(name: string): Promise<number> {
    this.#assertOpen();
    return this.broker.queue(name, this).purge();
  }

  async publish({ exchange, routingKey, message, mandatory }: PublishRequest): Promise<void> {
    this.#assertOpen();
    // The broker keeps its own copy of the body, as one across a network would.
    this.broker.publish(
      exchange,
      routingKey,
      { ...message, body: Buffer.from(message.body) },
      mandatory,
    );
  }

  async get(queueName: string, { noAck }: { noAck: boolean }): Promise<Delivery | null> {
    this.#assertOpen();
    const queue = this.broker.queue(queueName, this);
    const stored = queue.take();
    if (!stored) return null;
    return this.#delivery(queue, stored, noAck);
  }

  async consume(
    queueName: string,
    options: ConsumeOptions,
    onDelivery: (delivery: Delivery) => void,
    onBrokerCancel?: (reason: Error) => void,
  ): Promise<Subscription> {
    this.#assertOpen();
    const queue = this.broker.queue(queueName, this);
    const forget = () => {
      if (!this.#subscriptions.delete(consumer.tag)) return false;
      if (this.#subscriptions.size === 0) this.#stopKeepAlive();
      return true;
    };
    const consumer: QueueConsumer = {
      tag: options.consumerTag,
      prefetch: options.prefetch,
      noAck: options.noAck,
      unacked: 0,
      deliver: (stored) => onDelivery(this.#delivery(queue, stored, options.noAck, consumer)),
      cancelledByBroker: () => {
        if (forget())
          onBrokerCancel?.(
            new NotFoundError(`queue '${queueName}' was deleted while being consumed`),
          );
      },
    };
    this.#subscriptions.set(consumer.tag, { queue, consumer });
    this.#keepAlive ??= setInterval(() => {}, 2 ** 31 - 1);
    queue.addConsumer(consumer);
    return {
      consumerTag: consumer.tag,
      cancel: async () => {
        if (forget()) queue.removeConsumer(consumer);
      },
    };
  }

  #delivery(
    queue: MemoryQueue,
    stored: StoredMessage,
    noAck: boolean,
    consumer?: QueueConsumer,
  ): Delivery {
    const tag = this.#nextTag++;
    if (!noAck) this.#unsettled.set(tag, { queue, stored, consumer });
    return {
      message: stored.message,
      info: {
        exchange: stored.exchange,
        routingKey: stored.routingKey,
        redelivered: stored.redelivered,
        queue: queue.name,
        consumerTag: consumer?.tag,
      },
      ack: async () => this.#settle(tag, "ack"),
      reject: async (requeue) => this.#settle(tag, requeue ? "requeue" : "reject"),
    };
  }

  #settle(tag: number, outcome: "ack" | "requeue" | "reject"): void {
    if (this.#state === "closed") {
      throw new ConnectionLostError(
        "the memory connection that delivered this message is closed; the message went back to its queue and will be redelivered",
      );
    }
    const unsettled = this.#unsettled.get(tag);
    if (!unsettled)
      throw new MessageStateError(
        `delivery ${tag} is not awaiting a settle (settled already, or consumed with noAck)`,
      );
    this.#unsettled.delete(tag);
    const { queue, stored, consumer } = unsettled;
    if (consumer) {
      consumer.unacked--;
      queue.scheduleDispatch();
    }
    if (outcome === "requeue") queue.requeue(stored);
    else if (outcome === "reject") this.broker.deadLetter(queue, stored, "rejected");
  }

  #stopKeepAlive(): void {
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  #assertOpen(): void {
    this.#assertNotClosed();
    if (this.#state === "new") this.#state = "open"; // direct use without connect() is fine in memory
  }

  #assertNotClosed(): void {
    if (this.#state === "closed")
      throw new ClosedError("this memory connection is closed; open a new Connection");
  }
}
