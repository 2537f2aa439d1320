import { randomUUID } from "node:crypto";
import {
  type Backend,
  BackendEventEmitter,
  type BindingDeclaration,
  type Capabilities,
  ClosedError,
  type ConsumeOptions,
  type DeadLetterReason,
  type Delivery,
  deadLetterHeaders,
  type ExchangeDeclaration,
  isTransientPublishError,
  NotFoundError,
  PublishNackedError,
  type PublishRequest,
  type QueueDeclaration,
  type Subscription,
  sanitizedCause,
  settledWithin,
  TooLargeToDecodeError,
  UnroutableError,
  UnsupportedFeatureError,
  withTimeout,
} from "@carrot/core/backend";
import type { Redis } from "ioredis";
import { redisCapabilities } from "./capabilities.js";
import { commandError, connectError, lostError, redisSecrets } from "./connection-errors.js";
import { KeyLayout } from "./key-layout.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { pingEvery } from "./liveness.js";
import { type ScriptedRedis, withScripts } from "./lua-scripts.js";
import { encodeEnvelope, type StoredEntry } from "./message-codec.js";
import { PublishBatcher } from "./publish-batcher.js";
import { QueueSweeper } from "./queue-sweeper.js";
import { openRedis } from "./redis-connector.js";
import type { ResolvedRedisOptions } from "./redis-options.js";
import { SettleBatcher } from "./settle-batcher.js";
import { type DeliveryContext, StreamDelivery } from "./stream-delivery.js";
import { autoClaim, readGroup } from "./stream-reads.js";
import { StreamSubscription, type SubscriptionHost } from "./stream-subscription.js";
import { TopologyStore } from "./topology-store.js";

/** Publishes retried when the bindings changed under them, before giving up. */
const MAX_ROUTE_ATTEMPTS = 20;

/**
 * One carrot connection to Redis: a shared command connection (auto-pipelined)
 * for topology, publishes, settles and leases, plus one blocking connection
 * per subscription.
 */
export class RedisBackend extends BackendEventEmitter implements Backend {
  readonly name = "redis";
  readonly capabilities: Capabilities;
  readonly keys: KeyLayout;
  /** Names this connection's consumers in every group. */
  readonly id = randomUUID().slice(0, 12);
  readonly #options: ResolvedRedisOptions;
  readonly #subscriptions = new Map<string, StreamSubscription>();
  /** Every (stream, consumer) this connection used, to leave the groups tidy on close. */
  readonly #consumers = new Map<string, { stream: string; consumer: string }>();
  #command?: ScriptedRedis;
  /** Publishes only: never resent after a reconnect (a resend could store a message twice). */
  #publisher?: ScriptedRedis;
  #publishes?: PublishBatcher;
  #topology?: TopologyStore;
  #keeper?: LeaseKeeper;
  #batcher?: SettleBatcher;
  #sweeper?: QueueSweeper;
  /** Stops the liveness pings of the command and publish connections. */
  #stopPings: (() => void)[] = [];
  #connecting?: Promise<void>;
  #state: "new" | "open" | "closed" = "new";
  /** The command connection dropped and "disconnect" was emitted; cleared when it is back. */
  #down = false;
  /** Redis's clock minus ours: expiry times are Redis times. */
  #clockOffset = 0;

  constructor(options: ResolvedRedisOptions) {
    super();
    this.#options = options;
    this.keys = new KeyLayout(options.settings.prefix);
    this.capabilities = redisCapabilities(options.settings.maxMessageSize);
  }

  override toString(): string {
    return `RedisBackend(${this.#options.display})`;
  }

  connect(): Promise<void> {
    if (this.#state === "closed") return Promise.reject(this.#closedError());
    this.#connecting ??= this.#open();
    return this.#connecting;
  }

  async #open(): Promise<void> {
    const { redis, display, connectTimeout, settings } = this.#options;
    const command = withScripts(
      // Not enableAutoPipelining: in ioredis 6 its commands can hang for good when the
      // connection drops mid-pipeline. Concurrent commands are pipelined on the socket anyway.
      await openRedis(redis, display, connectTimeout),
    );
    const publisher = await openRedis(
      { ...redis, autoResendUnfulfilledCommands: false },
      display,
      connectTimeout,
    ).catch((error: unknown) => {
      command.disconnect();
      throw error;
    });
    if (this.#state === "closed") {
      command.disconnect();
      publisher.disconnect();
      throw this.#closedError();
    }
    this.#command = command;
    this.#publisher = withScripts(publisher);
    publisher.on("error", () => {}); // reported through the command connection
    this.#publishes = new PublishBatcher(this.#publisher, this.keys);
    this.#topology = new TopologyStore(command, this.keys);
    const report = (error: unknown) => this.#reportError(error);
    this.#keeper = new LeaseKeeper(command, this.keys.group, settings.visibilityTimeout, report);
    this.#batcher = new SettleBatcher(command, this.keys.group);
    const [seconds = 0, micros = 0] = await command.time();
    this.#clockOffset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Date.now();
    this.#watch(command);
    this.#sweeper = new QueueSweeper({
      command,
      keys: this.keys,
      now: () => Date.now() + this.#clockOffset,
      deadLetter: (queue, entry, reason) => this.#deadLetter(queue, entry, reason),
      reportError: report,
    });
    this.#sweeper.start();
    if (settings.heartbeat > 0)
      this.#stopPings = [command, publisher].map((redis) => pingEvery(redis, settings.heartbeat));
    this.#state = "open";
    this.emit("connect", { host: display });
  }

  /** Turns ioredis's connection events into carrot's. */
  #watch(command: Redis): void {
    const host = this.#options.display;
    const secrets = redisSecrets(this.#options.redis);
    let attempts = 0;
    // What ioredis reported last: why the connection dropped, when it closes.
    let reason: unknown;
    command.on("error", (error: Error) => {
      reason = error;
      this.emit("error", {
        error: connectError(host, error, secrets, this.#options.connectTimeout),
      });
    });
    command.on("close", () => {
      if (this.#down || this.#state !== "open") return;
      this.#down = true;
      this.emit("disconnect", { host, error: lostError(host, reason, secrets) });
    });
    command.on("reconnecting", () => {
      attempts++;
    });
    command.on("ready", () => {
      reason = undefined;
      if (!this.#down) return;
      this.#down = false;
      this.emit("connect", { host });
      this.emit("reconnect", { host, attempt: attempts });
      attempts = 0;
    });
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    if (!wasOpen) {
      await this.#connecting?.catch(() => {});
      return;
    }
    const command = this.#command!;
    this.#sweeper!.stop();
    for (const stop of this.#stopPings) stop();
    await Promise.all([...this.#subscriptions.values()].map((s) => s.cancel()));
    this.#subscriptions.clear();
    // Settles already asked for go out before the requeues below and the quit.
    this.#batcher!.flush();
    // Unsettled deliveries go back to their queues now, not after the visibility timeout.
    // Taken before the keeper is cleared: tidy() runs after clear().
    const unsettled = this.#keeper!.held();
    const tidy = async () => {
      for (const leases of unsettled) {
        const { stream, consumer } = leases[0]!.group;
        await command.carrotRequeue(stream, this.keys.group, consumer, ...leases.map((l) => l.id));
      }
      for (const { stream, consumer } of this.#consumers.values()) {
        await command.carrotDropConsumer(stream, this.keys.group, consumer);
      }
    };
    this.#keeper!.clear();
    const { connectTimeout } = this.#options;
    await withTimeout(
      tidy(),
      connectTimeout,
      () => new Error(`no answer from redis within ${connectTimeout} ms`),
    ).catch((error: unknown) => this.#reportError(error));
    const publisher = this.#publisher!;
    await settledWithin(Promise.all([command.quit(), publisher.quit()]), connectTimeout);
    command.disconnect();
    publisher.disconnect();
    // A loss was reported already.
    if (!this.#down) this.emit("disconnect", { host: this.#options.display });
  }

  async declareExchange(exchange: ExchangeDeclaration): Promise<void> {
    await this.#run(`declare exchange '${exchange.name}'`, ({ topology }) =>
      topology.declareExchange(exchange),
    );
  }

  async declareQueue(queue: QueueDeclaration): Promise<void> {
    // Refused rather than ignored: Redis has no connection-owned keys, and a
    // queue deleted "with its last consumer" cannot tell a dead process from a slow one.
    if (queue.exclusive || queue.autoDelete || queue.arguments.maxPriority !== undefined) {
      throw new UnsupportedFeatureError(
        `the redis backend does not support exclusive, autoDelete or priority queues ('${queue.name}')`,
      );
    }
    await this.#run(`declare queue '${queue.name}'`, ({ topology }) =>
      topology.declareQueue(queue),
    );
  }

  async bindQueue(binding: BindingDeclaration): Promise<void> {
    await this.#run(`bind queue '${binding.queue}'`, ({ topology }) => topology.bind(binding));
  }

  async unbindQueue(binding: BindingDeclaration): Promise<void> {
    await this.#run(`unbind queue '${binding.queue}'`, ({ topology }) => topology.unbind(binding));
  }

  async deleteExchange(name: string): Promise<void> {
    await this.#run(`delete exchange '${name}'`, ({ topology }) => topology.deleteExchange(name));
  }

  async deleteQueue(name: string): Promise<void> {
    await this.#run(`delete queue '${name}'`, ({ topology }) => topology.deleteQueue(name));
  }

  purgeQueue(name: string): Promise<number> {
    return this.#run(`purge queue '${name}'`, async ({ topology, command }) => {
      await topology.assertQueueExists(name);
      return command.carrotPurge(this.keys.stream(name), this.keys.group);
    });
  }

  async publish({ exchange, routingKey, message, mandatory }: PublishRequest): Promise<void> {
    const topology = this.#state === "open" ? this.#topology! : (await this.#ready()).topology;
    const publishes = this.#publishes!;
    const envelope = encodeEnvelope(exchange, routingKey, message);
    const { body: bytes, headers } = message;
    const body = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const expiration = message.properties.expiration;
    for (let attempt = 0; attempt < MAX_ROUTE_ATTEMPTS; attempt++) {
      const route =
        topology.routeCached(exchange, routingKey, headers) ??
        (await topology.route(exchange, routingKey, headers).catch((error: unknown) => {
          throw commandError(error, `route through exchange '${exchange}'`);
        }));
      const stored = await publishes.publish({
        route,
        expiration: expiration === undefined ? "" : String(expiration),
        body,
        envelope,
      });
      if (stored === -1) {
        topology.invalidate(exchange);
        continue;
      }
      if (expiration !== undefined) this.#sweeper!.poke();
      if (stored === 0 && mandatory) {
        throw new UnroutableError(
          `no queue is bound to exchange '${exchange}' for routing key '${routingKey}'; the message was not stored`,
        );
      }
      return;
    }
    throw new PublishNackedError(
      `the bindings of exchange '${exchange}' kept changing while routing; the message was not stored, send it again`,
    );
  }

  get(queue: string, { noAck }: { noAck: boolean }): Promise<Delivery | null> {
    return this.#run(`get from queue '${queue}'`, async ({ command }) => {
      const stream = this.keys.stream(queue);
      const consumer = this.#consumerName(stream, "get");
      const context = this.#deliveryContext(queue, stream, consumer);
      for (;;) {
        const read = await this.#readOne(command, queue, stream, consumer);
        if (!read) return null;
        const delivery = this.#accept(context, read.entry, read.redelivered, noAck);
        if (delivery) return delivery;
      }
    });
  }

  async consume(
    queue: string,
    options: ConsumeOptions,
    onDelivery: (delivery: Delivery) => void,
  ): Promise<Subscription> {
    if (options.exclusive) {
      throw new UnsupportedFeatureError("the redis backend does not support exclusive consumers");
    }
    await this.#run(`consume from queue '${queue}'`, ({ topology }) =>
      topology.assertQueueExists(queue),
    );
    const stream = this.keys.stream(queue);
    const consumer = this.#consumerName(stream, options.consumerTag);
    const { redis, display, connectTimeout } = this.#options;
    // A blocking read cut off by a reconnect fails instead of being resent:
    // resent, it would block again before the subscription can give back
    // what the lost reply held.
    const blocking = await openRedis(
      { ...redis, autoResendUnfulfilledCommands: false },
      display,
      connectTimeout,
    );
    blocking.on("error", () => {}); // the subscription's loop reports what matters
    // The subscription counts held deliveries against its prefetch; it is made just below.
    let subscription: StreamSubscription | undefined;
    const context = this.#deliveryContext(queue, stream, consumer, options.consumerTag, () =>
      subscription?.released(),
    );
    const host: SubscriptionHost = {
      command: this.#command!,
      keys: this.keys,
      visibilityTimeout: this.#options.settings.visibilityTimeout,
      claimInterval: this.#options.settings.claimInterval,
      heartbeat: this.#options.settings.heartbeat,
      heldIds: (s, c) => this.#keeper!.heldIds(s, c),
      reportError: (error) => this.#reportError(error),
      deliver: (entry, redelivered) => {
        const delivery = this.#accept(context, entry, redelivered, options.noAck);
        if (!delivery) return false;
        onDelivery(delivery);
        return !options.noAck;
      },
    };
    subscription = new StreamSubscription(host, blocking, queue, consumer, options.prefetch);
    this.#subscriptions.set(options.consumerTag, subscription);
    subscription.start();
    return {
      consumerTag: options.consumerTag,
      cancel: async () => {
        if (this.#subscriptions.get(options.consumerTag) !== subscription) return;
        this.#subscriptions.delete(options.consumerTag);
        await subscription.cancel();
        this.#keeper?.forget(stream, consumer);
      },
    };
  }

  /** One entry for `get`: first one another consumer left idle too long, else a new one. */
  async #readOne(
    command: ScriptedRedis,
    queue: string,
    stream: string,
    consumer: string,
  ): Promise<{ entry: StoredEntry; redelivered: boolean } | null> {
    try {
      const { group } = this.keys;
      const { visibilityTimeout } = this.#options.settings;
      const claimed = await autoClaim(
        command,
        stream,
        group,
        consumer,
        visibilityTimeout,
        "0-0",
        1,
      );
      const first = claimed.entries[0];
      if (first) return { entry: first, redelivered: true };
      const [entry] = await readGroup(command, stream, group, consumer, 1);
      return entry ? { entry, redelivered: false } : null;
    } catch (error) {
      if (/NOGROUP/.test(String(error))) {
        throw new NotFoundError(`no queue named '${queue}': declare it first`, {
          cause: sanitizedCause(error),
        });
      }
      throw error;
    }
  }

  /** How the deliveries of one consumer of `queue` settle, renew and dead-letter. */
  #deliveryContext(
    queue: string,
    stream: string,
    consumer: string,
    consumerTag?: string,
    released: () => void = () => {},
  ): DeliveryContext {
    return {
      queue,
      consumerTag,
      leases: this.#keeper!.group(stream, consumer),
      keeper: this.#keeper!,
      settles: this.#batcher!,
      released,
      deadLetter: (q, entry, reason) => this.#deadLetter(q, entry, reason),
      closed: () => this.#state === "closed",
    };
  }

  /**
   * A read entry becomes a Delivery, unless it expired: then it is
   * dead-lettered (if configured) and removed, and undefined is returned.
   */
  #accept(
    context: DeliveryContext,
    entry: StoredEntry,
    redelivered: boolean,
    noAck: boolean,
  ): Delivery | undefined {
    const { queue, leases, settles } = context;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now() + this.#clockOffset) {
      this.#deadLetter(queue, entry, "expired")
        .then(() => settles.settle(leases, entry.id, "ack"))
        .catch((error: unknown) => this.#reportError(error));
      return undefined;
    }
    if (noAck) {
      settles.settle(leases, entry.id, "ack").catch((error: unknown) => this.#reportError(error));
    }
    const { message } = entry;
    if (!message.unreadable && message.body.byteLength > this.capabilities.maxMessageSize) {
      // Another client's XADD is not held to the limit carrot's sends are: refused here.
      message.unreadable = new TooLargeToDecodeError(
        `its body is ${message.body.byteLength} bytes; this backend takes at most ${this.capabilities.maxMessageSize}`,
      );
    }
    return new StreamDelivery(context, entry, redelivered, noAck);
  }

  /** Re-routes a rejected or expired message through its queue's dead-letter exchange. */
  async #deadLetter(queue: string, entry: StoredEntry, reason: DeadLetterReason): Promise<void> {
    const declaration = await this.#topology!.queue(queue).catch(() => undefined);
    const exchange = declaration?.arguments.deadLetterExchange;
    if (exchange === undefined) return;
    const { expiration: _expired, ...properties } = entry.message.properties;
    try {
      await this.publish({
        exchange,
        routingKey: declaration?.arguments.deadLetterRoutingKey ?? entry.routingKey,
        message: {
          ...entry.message,
          headers: deadLetterHeaders(entry.message.headers, {
            queue,
            exchange: entry.exchange,
            routingKey: entry.routingKey,
            reason,
          }),
          properties,
        },
        mandatory: false,
      });
    } catch (error) {
      // Kept for a retry only when the connection failed. As in RabbitMQ,
      // what cannot be dead-lettered (no such exchange, too large with its
      // x-death record) is dropped, not redelivered for ever; said when unexpected.
      if (isTransientPublishError(error)) throw error;
      if (!(error instanceof NotFoundError)) this.#reportError(error);
    }
  }

  #consumerName(stream: string, tag: string): string {
    const consumer = `${this.id}:${tag}`;
    this.#consumers.set(`${stream}\0${consumer}`, { stream, consumer });
    return consumer;
  }

  /** Background failures (renewals, sweeps, reads, the tidy-up on close), as carrot errors. */
  #reportError(error: unknown): void {
    this.emit("error", { error: commandError(error, "carry on its background work") });
  }

  /** Runs `work` once connected; what ioredis throws comes out as a carrot error naming `action`. */
  async #run<T>(
    action: string,
    work: (ready: { command: ScriptedRedis; topology: TopologyStore }) => Promise<T>,
  ): Promise<T> {
    const ready = await this.#ready();
    try {
      return await work(ready);
    } catch (error) {
      throw commandError(error, action);
    }
  }

  async #ready(): Promise<{ command: ScriptedRedis; topology: TopologyStore }> {
    if (this.#state === "closed") throw this.#closedError();
    if (this.#state === "new") await this.connect();
    return { command: this.#command!, topology: this.#topology! };
  }

  #closedError(): ClosedError {
    return new ClosedError(
      `this redis connection (${this.#options.display}) is closed; open a new Connection`,
    );
  }
}
