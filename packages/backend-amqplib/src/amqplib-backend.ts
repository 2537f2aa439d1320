import {
  type Backend,
  BackendEventEmitter,
  type BackendOptions,
  type BindingDeclaration,
  type Capabilities,
  type CarrotError,
  ClosedError,
  type ConsumeOptions,
  DEFAULT_RECONNECT_POLICY,
  type Delivery,
  type DeliveryInfo,
  type ExchangeDeclaration,
  type PublishRequest,
  type QueueDeclaration,
  type ReconnectPolicy,
  type ReplyDestination,
  type ReplyHandlers,
  type Subscription,
  settledWithin,
} from "@carrot/core/backend";
import type { Channel, ChannelModel } from "amqplib";
import { endpointsFrom, urlConnectTimeout } from "./amqp-endpoints.js";
import { REPLY } from "./amqp-errors.js";
import { amqpCapabilities, defaultMaxMessageSize } from "./capabilities.js";
import { ConnectionManager } from "./connection-manager.js";
import { DeliveryChannel } from "./consumer-channel.js";
import type { DelayPair } from "./delay-topology.js";
import { DelayedPublisher } from "./delayed-publish.js";
import { isQuorumQueue, quorumDeliveryCount } from "./delivery-count.js";
import { DirectReplies, isDirectReplyRequest } from "./direct-reply-to.js";
import { toTable } from "./header-table.js";
import { ConfirmPublisher } from "./publish-confirms.js";
import { SharedChannel } from "./shared-channel.js";
import { AmqpSubscription } from "./subscription.js";
import { bindQueue, declareExchange, declareQueue, recoverTopology } from "./topology-recovery.js";
import { TopologyRegistry } from "./topology-registry.js";
import { type AmqplibBackendSettings, transportSettings } from "./transport-settings.js";

/** How long close() lets sends in flight collect their confirms. */
const CLOSE_CONFIRM_WAIT = 5_000;

/**
 * carrot on RabbitMQ through amqplib. One AMQP connection, with:
 * a serial channel for declarations (a failed declare closes only it),
 * a confirm channel for publishing, a channel per consumer, a channel for
 * basic.get, and, once a request is made, a confirm channel for requests that
 * receives their replies (direct reply-to). It reconnects by itself and then
 * declares its topology again and resumes its consumers before anything else
 * uses the new connection.
 */
export class AmqplibBackend extends BackendEventEmitter implements Backend {
  readonly name = "amqplib";
  readonly #settings: AmqplibBackendSettings;
  readonly #manager: ConnectionManager;
  readonly #registry = new TopologyRegistry();
  readonly #topology: SharedChannel;
  readonly #fetching: SharedChannel;
  readonly #publisher: ConfirmPublisher;
  readonly #delayed: DelayedPublisher;
  readonly #subscriptions = new Set<AmqpSubscription>();
  /** The reply destination requests go out on (direct reply-to), once one is open. */
  #replies?: DirectReplies;
  /** Exchanges known to exist: publishing to a missing one would close the shared publish channel. */
  readonly #knownExchanges = new Set<string>();
  /** Queues known to exist: a basic.get on a missing one would close the shared get channel. */
  readonly #knownQueues = new Set<string>();
  readonly #getChannels = new WeakMap<Channel, DeliveryChannel>();
  /** Channels whose acks of this turn are not written yet (see DeliveryChannel). */
  readonly #unflushedAcks = new Set<DeliveryChannel>();
  /** Backoff for a consumer whose channel (not connection) died. */
  readonly #policy: ReconnectPolicy;
  #capabilities: Capabilities;
  #closed = false;

  constructor(options: BackendOptions) {
    super();
    this.#settings = transportSettings(options.transportOptions);
    this.#capabilities = amqpCapabilities(
      this.#settings.maxMessageSize ?? defaultMaxMessageSize(undefined),
    );
    this.#manager = new ConnectionManager({
      endpoints: endpointsFrom(options, this.#settings),
      connectTimeout: urlConnectTimeout(options.url) ?? options.connectTimeout,
      reconnect: options.reconnect,
      reconnectWait: this.#settings.reconnectWait,
      events: this,
      recover: (model) => this.#recover(model),
    });
    this.#topology = new SharedChannel(this.#manager, { serial: true });
    this.#fetching = new SharedChannel(this.#manager, { serial: false });
    this.#publisher = new ConfirmPublisher(this.#manager, (error) =>
      this.#publishChannelFailed(error),
    );
    this.#delayed = new DelayedPublisher({
      declared: (pair) => this.#delayPairDeclared(pair),
      declare: (pair) => this.#declareDelayPair(pair),
      publish: (request) => this.#confirmPublisher(request).publish(request),
    });
    this.#policy = options.reconnect === false ? DEFAULT_RECONNECT_POLICY : options.reconnect;
  }

  get capabilities(): Capabilities {
    return this.#capabilities;
  }

  /** The RabbitMQ version reported by the broker, once connected. */
  get serverVersion(): string | undefined {
    return this.#manager.serverVersion;
  }

  async connect(): Promise<void> {
    if (this.#closed)
      throw new ClosedError("this amqplib connection is closed; open a new Connection");
    await this.#manager.connect();
    if (this.#settings.maxMessageSize === undefined) {
      this.#capabilities = amqpCapabilities(defaultMaxMessageSize(this.#manager.serverVersion));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Acks asked for before close reach RabbitMQ before it: otherwise it redelivers those messages.
    await settledWithin(
      Promise.all([...this.#unflushedAcks].map((channel) => channel.flush())),
      CLOSE_CONFIRM_WAIT,
    );
    await Promise.allSettled([...this.#subscriptions].map((subscription) => subscription.cancel()));
    await Promise.all([
      this.#publisher.idle(CLOSE_CONFIRM_WAIT),
      this.#replies?.publisher.idle(CLOSE_CONFIRM_WAIT),
    ]);
    // Closing the connection hands every unacked delivery back to its queue.
    await this.#manager.close();
  }

  async declareExchange(exchange: ExchangeDeclaration): Promise<void> {
    await this.#topology.run(`declaring exchange '${exchange.name}'`, (channel) =>
      declareExchange(channel, exchange),
    );
    this.#registry.addExchange(exchange);
    this.#knownExchanges.add(exchange.name);
  }

  async declareQueue(queue: QueueDeclaration): Promise<void> {
    await this.#topology.run(`declaring queue '${queue.name}'`, (channel) =>
      declareQueue(channel, queue),
    );
    this.#registry.addQueue(queue);
    this.#knownQueues.add(queue.name);
  }

  /**
   * A passive queue.declare, on the serial topology channel: RabbitMQ
   * answers a missing queue by closing the channel, which then reaches only
   * this caller, and the next operation opens a fresh one.
   */
  async checkQueue(name: string): Promise<void> {
    await this.#topology.run(`checking queue '${name}'`, (channel) => channel.checkQueue(name));
    this.#knownQueues.add(name);
  }

  /** A passive exchange.declare, on the topology channel for the same reason. */
  async checkExchange(name: string): Promise<void> {
    await this.#topology.run(`checking exchange '${name}'`, (channel) =>
      channel.checkExchange(name),
    );
    this.#knownExchanges.add(name);
  }

  async bindQueue(binding: BindingDeclaration): Promise<void> {
    await this.#topology.run(
      `binding queue '${binding.queue}' to exchange '${binding.exchange}'`,
      (channel) => bindQueue(channel, binding),
    );
    this.#registry.addBinding(binding);
  }

  async unbindQueue(binding: BindingDeclaration): Promise<void> {
    const { queue, exchange, routingKey } = binding;
    await this.#topology.run(`unbinding queue '${queue}' from exchange '${exchange}'`, (channel) =>
      channel.unbindQueue(queue, exchange, routingKey, toTable(binding.arguments ?? {})),
    );
    this.#registry.removeBinding(binding);
  }

  async deleteExchange(name: string): Promise<void> {
    await this.#topology.run(`deleting exchange '${name}'`, (channel) =>
      channel.deleteExchange(name),
    );
    this.#registry.forgetExchange(name);
    this.#knownExchanges.delete(name);
  }

  async deleteQueue(name: string): Promise<void> {
    await this.#topology.run(`deleting queue '${name}'`, (channel) => channel.deleteQueue(name));
    this.#registry.forgetQueue(name);
    this.#knownQueues.delete(name);
  }

  async purgeQueue(name: string): Promise<number> {
    // Not repeated after a lost connection: a second purge would count other messages.
    const reply = await this.#topology.run(
      `purging queue '${name}'`,
      (channel) => channel.purgeQueue(name),
      false,
    );
    return reply.messageCount;
  }

  /** Handed to the confirm channel in the caller's tick when there is nothing to check or delay first. */
  publish(request: PublishRequest): Promise<void> {
    const { exchange, delay } = request;
    if (
      !this.#closed &&
      (exchange === "" || this.#knownExchanges.has(exchange)) &&
      (delay === undefined || delay <= 0)
    )
      return this.#confirmPublisher(request).publish(request);
    return this.#publishChecked(request);
  }

  async #publishChecked(request: PublishRequest): Promise<void> {
    this.#assertOpen();
    const { exchange } = request;
    if (exchange !== "" && !this.#knownExchanges.has(exchange)) {
      await this.#topology.run(`publishing to exchange '${exchange}'`, (channel) =>
        channel.checkExchange(exchange),
      );
      this.#knownExchanges.add(exchange);
    }
    if (request.delay !== undefined && request.delay > 0)
      await this.#delayed.publish(request, request.delay);
    else await this.#confirmPublisher(request).publish(request);
  }

  /**
   * Request-reply by direct reply-to (see direct-reply-to.ts): a confirm
   * channel consuming `amq.rabbitmq.reply-to`, which the requests then go
   * out on. A new one replaces the last (core opens another once the last
   * reported itself lost).
   */
  async openReplies(handlers: ReplyHandlers): Promise<ReplyDestination> {
    this.#assertOpen();
    const replies = new DirectReplies(this.#manager, handlers, (error) =>
      this.#publishChannelFailed(error),
    );
    await replies.open();
    this.#replies = replies;
    return replies;
  }

  /** The channel a message goes out on: a request on the one that receives its reply. */
  #confirmPublisher(request: PublishRequest): ConfirmPublisher {
    return this.#replies?.active && isDirectReplyRequest(request)
      ? this.#replies.publisher
      : this.#publisher;
  }

  async get(queue: string, { noAck }: { noAck: boolean }): Promise<Delivery | null> {
    this.#assertOpen();
    if (!this.#knownQueues.has(queue)) {
      await this.#topology.run(`fetching from queue '${queue}'`, (channel) =>
        channel.checkQueue(queue),
      );
      this.#knownQueues.add(queue);
    }
    return this.#fetching.run(
      `fetching from queue '${queue}'`,
      async (channel) => {
        const message = await channel.get(queue, { noAck });
        if (message === false) return null;
        const deliveries =
          this.#getChannels.get(channel) ?? new DeliveryChannel(channel, 0, this.#unflushedAcks);
        this.#getChannels.set(channel, deliveries);
        const { exchange, routingKey, redelivered } = message.fields;
        const info: DeliveryInfo = { exchange, routingKey, redelivered, queue };
        if (isQuorumQueue(this.#registry.queues.get(queue)))
          info.deliveryCount = quorumDeliveryCount(message);
        return deliveries.delivery(message, info, noAck);
      },
      false,
    );
  }

  async consume(
    queue: string,
    options: ConsumeOptions,
    onDelivery: (delivery: Delivery) => void,
    onBrokerCancel?: (reason: Error) => void,
  ): Promise<Subscription> {
    this.#assertOpen();
    const subscription = new AmqpSubscription(queue, options, onDelivery, onBrokerCancel, {
      manager: this.#manager,
      events: this,
      policy: this.#policy,
      redeclare: (name) => this.#redeclare(name),
      isQuorum: (name) => isQuorumQueue(this.#registry.queues.get(name)),
      ended: (ended) => this.#subscriptionEnded(ended),
      unflushedAcks: this.#unflushedAcks,
    });
    // Registered before it starts, so that a reconnect meanwhile resumes it too.
    this.#subscriptions.add(subscription);
    try {
      await subscription.start(undefined, true);
    } catch (error) {
      this.#subscriptions.delete(subscription);
      throw error;
    }
    return subscription;
  }

  /** A new connection, before anyone else uses it: topology first, then every consumer. */
  async #recover(model: ChannelModel): Promise<void> {
    await recoverTopology(model, this.#registry, (error) => this.#report(error));
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.resume(model)));
  }

  /** A consumer resuming after its channel died: its queue (and what it needs) declared again first. */
  async #redeclare(queue: string): Promise<void> {
    const declaration = this.#registry.queues.get(queue);
    if (!declaration) return;
    const bindings = this.#registry.bindingsOf(queue);
    await this.#topology.run(`redeclaring queue '${queue}'`, async (channel) => {
      await declareQueue(channel, declaration);
      for (const binding of bindings) {
        const exchange = this.#registry.exchanges.get(binding.exchange);
        if (exchange) await declareExchange(channel, exchange);
        await bindQueue(channel, binding);
      }
    });
  }

  /** Declared by this connection, and its exchange not since found missing by a publish. */
  #delayPairDeclared(pair: DelayPair): boolean {
    return (
      this.#knownExchanges.has(pair.exchange.name) && this.#registry.queues.has(pair.queue.name)
    );
  }

  /** Declared like any other topology, so that recovery declares it again after a reconnect. */
  async #declareDelayPair(pair: DelayPair): Promise<void> {
    await this.declareExchange(pair.exchange);
    await this.declareQueue(pair.queue);
    await this.bindQueue(pair.binding);
  }

  #subscriptionEnded(subscription: AmqpSubscription): void {
    this.#subscriptions.delete(subscription);
    const queue = this.#registry.queues.get(subscription.queue);
    const stillConsumed = [...this.#subscriptions].some(
      (other) => other.queue === subscription.queue,
    );
    // RabbitMQ deletes an auto-delete queue with its last consumer: nothing to recover.
    if (queue?.autoDelete && !stillConsumed) this.#registry.forgetQueue(queue.name);
  }

  #publishChannelFailed(error: Error): void {
    // Someone deleted an exchange we published to: check them all again.
    if ((error as { code?: unknown }).code === REPLY.NOT_FOUND) this.#knownExchanges.clear();
    this.emit("error", { error });
  }

  #report(error: CarrotError): void {
    this.emit("error", { error });
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new ClosedError("this amqplib connection is closed; open a new Connection");
  }
}
