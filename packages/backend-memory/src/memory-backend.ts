import {
  type Backend,
  BackendEventEmitter,
  type BindingDeclaration,
  type Capabilities,
  ConnectionLifecycle,
  type ConsumeOptions,
  type Delivery,
  DeliveryTracker,
  type ExchangeDeclaration,
  InvalidOptionsError,
  NotFoundError,
  PrefetchWindow,
  PUBLISHED,
  type PublishRequest,
  type QueueDeclaration,
  type Subscription,
} from "@carrot/core/backend";
import { memoryCapabilities } from "./capabilities.js";
import { MemoryBroker } from "./memory-broker.js";
import { type DeliverySettler, MemoryDelivery } from "./memory-delivery.js";
import type { MemoryQueue, QueueConsumer } from "./memory-queue.js";

/** How `new MemoryBackend(options)` connects; both optional. */
export interface MemoryBackendOptions {
  /** The broker to connect to; by default the process-wide broker named "default". */
  broker?: MemoryBroker;
  /** The largest body accepted, in bytes; default 16 MiB (RabbitMQ 4's default). */
  maxMessageSize?: number;
}

async function nothingToOpen(): Promise<void> {}

/**
 * One connection to a memory broker. Like an AMQP connection, closing it
 * ends its subscriptions, puts its unacked messages back on their queues
 * (marked redelivered) and deletes the exclusive queues it owns.
 */
export class MemoryBackend extends BackendEventEmitter implements Backend {
  readonly name = "memory";
  readonly capabilities: Capabilities;
  /** The broker this connection is to: give it to another MemoryBackend to share its queues. */
  readonly broker: MemoryBroker;
  /** What this connection's deliveries settle through (one for all of them). */
  readonly #settler: DeliverySettler = {
    tracker: new DeliveryTracker<MemoryDelivery>({
      name: "memory",
      describe: ({ queue }) => `a message from '${queue.name}'`,
      // Back in delivery order: unshifting the last first leaves the first at the front.
      giveBack: (items) => {
        for (const { queue, stored } of items.reverse()) queue.requeue(stored);
      },
    }),
    deadLetter: ({ queue, stored }) => this.broker.deadLetter(queue, stored, "rejected"),
  };
  readonly #subscriptions = new Map<string, { queue: MemoryQueue; consumer: QueueConsumer }>();
  readonly #exclusiveQueues = new Set<string>();
  /** Keeps the process alive while it consumes, as an open socket does for network backends. */
  #keepAlive?: NodeJS.Timeout;
  readonly #lifecycle = new ConnectionLifecycle(this, "memory", "memory connection");

  constructor(options: MemoryBackendOptions = {}) {
    super();
    this.broker = options.broker ?? MemoryBroker.named("default");
    this.capabilities = memoryCapabilities(options.maxMessageSize);
  }

  connect(): Promise<void> {
    return this.#lifecycle.connect(nothingToOpen, nothingToOpen);
  }

  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      for (const { queue, consumer } of this.#subscriptions.values())
        queue.removeConsumer(consumer);
      this.#subscriptions.clear();
      this.#stopKeepAlive();
      await this.#settler.tracker.close();
      for (const name of this.#exclusiveQueues) this.broker.removeQueue(name);
      this.#exclusiveQueues.clear();
    });
  }

  async declareExchange(exchange: ExchangeDeclaration): Promise<void> {
    await this.#ready();
    this.broker.declareExchange(exchange);
  }

  async declareQueue(queue: QueueDeclaration): Promise<void> {
    await this.#ready();
    this.broker.declareQueue(queue, this);
    if (queue.exclusive) this.#exclusiveQueues.add(queue.name);
  }

  async checkQueue(name: string): Promise<void> {
    await this.#ready();
    this.broker.queue(name, this);
  }

  async checkExchange(name: string): Promise<void> {
    await this.#ready();
    this.broker.checkExchange(name);
  }

  async bindQueue(binding: BindingDeclaration): Promise<void> {
    await this.#ready();
    this.broker.bind(binding, this);
  }

  async unbindQueue(binding: BindingDeclaration): Promise<void> {
    await this.#ready();
    this.broker.unbind(binding, this);
  }

  async deleteExchange(name: string): Promise<void> {
    await this.#ready();
    this.broker.deleteExchange(name);
  }

  async deleteQueue(name: string): Promise<void> {
    await this.#ready();
    this.broker.queue(name, this); // refuses another connection's exclusive queue
    this.broker.removeQueue(name);
    this.#exclusiveQueues.delete(name);
  }

  async purgeQueue(name: string): Promise<number> {
    await this.#ready();
    return this.broker.queue(name, this).purge();
  }

  publish(request: PublishRequest): Promise<void> {
    // Not an async function: the hot path makes no promise, and takes no extra
    // turn; PUBLISHED tells core that the broker has the message already.
    const opening = this.#ready();
    if (opening) return opening.then(() => this.#publish(request));
    try {
      return this.#publish(request) ?? PUBLISHED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Returns what the confirm waits for when flow control holds the publish. */
  #publish({
    exchange,
    routingKey,
    message,
    mandatory,
    delay,
    freshBody,
  }: PublishRequest): Promise<void> | undefined {
    // The broker keeps its own copy of the body, as one across a network
    // would, so that the sender cannot change a stored message: unless the
    // body is new bytes no one else holds (core encoded it for this request).
    const copy = freshBody ? message : { ...message, body: Buffer.from(message.body) };
    if (!delay) return this.broker.publish(exchange, routingKey, copy, mandatory);
    if (mandatory) {
      throw new InvalidOptionsError(
        "a delayed message cannot be mandatory: whether it reaches a queue is only known when it is due",
      );
    }
    this.broker.publishLater(exchange, routingKey, copy, delay);
    return undefined;
  }

  async get(queueName: string, { noAck }: { noAck: boolean }): Promise<Delivery | null> {
    await this.#ready();
    const queue = this.broker.queue(queueName, this);
    const stored = queue.take();
    if (!stored) return null;
    return new MemoryDelivery(queue, stored, this.#settler, noAck);
  }

  async consume(
    queueName: string,
    options: ConsumeOptions,
    onDelivery: (delivery: Delivery) => void,
    onBrokerCancel?: (reason: Error) => void,
  ): Promise<Subscription> {
    await this.#ready();
    const queue = this.broker.queue(queueName, this);
    const forget = () => {
      if (!this.#subscriptions.delete(consumer.tag)) return false;
      if (this.#subscriptions.size === 0) this.#stopKeepAlive();
      return true;
    };
    // The tracker counts what is held and frees a place when a delivery is
    // settled (never on close); the queue then dispatches again.
    const window = new PrefetchWindow(options.prefetch, () => queue.scheduleDispatch());
    const consumer: QueueConsumer = {
      tag: options.consumerTag,
      noAck: options.noAck,
      window,
      deliver: (stored) =>
        onDelivery(
          new MemoryDelivery(queue, stored, this.#settler, options.noAck, consumer.tag, window),
        ),
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

  #stopKeepAlive(): void {
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  /** Memory needs no connect: direct use opens the connection (a closed one refuses). */
  #ready(): Promise<void> | undefined {
    return this.#lifecycle.state === "open" ? undefined : this.connect();
  }
}
