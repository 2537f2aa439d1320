import { randomUUID } from "node:crypto";
import {
  type Backend,
  BackendEventEmitter,
  type BatchOutcome,
  type BindingDeclaration,
  type Capabilities,
  ConnectionLifecycle,
  type ConsumeOptions,
  type DeadLetterReason,
  type Delivery,
  DeliveryTracker,
  deadLetterMessage,
  deadLetterTarget,
  type ExchangeDeclaration,
  isExpired,
  LeaseKeeper,
  NotFoundError,
  PrefetchWindow,
  PublishNackedError,
  type PublishRequest,
  type QueueDeclaration,
  type ReplyDestination,
  type ReplyHandlers,
  type RoutingDecision,
  type Subscription,
  sanitizedCause,
  settledWithin,
  TooLargeToDecodeError,
  UnroutableError,
  UnsupportedFeatureError,
  unpublishedDeadLetter,
  withTimeout,
} from "@carrot/core/backend";
import { redisCapabilities } from "./capabilities.js";
import { ClusterPublisher } from "./cluster-publisher.js";
import { releaseDueAcrossSlots } from "./cluster-release.js";
import { commandError, connectError, lostError, redisSecrets } from "./connection-errors.js";
import { releaseDue } from "./delayed-release.js";
import { KeyLayout } from "./key-layout.js";
import { LeaseGroup, touchLeases } from "./lease-keeper.js";
import { pingEvery } from "./liveness.js";
import { type ScriptedRedis, withScripts } from "./lua-scripts.js";
import { encodeEnvelope, type StoredEntry } from "./message-codec.js";
import { PublishBatcher, type PublishOutcome, type RoutedPublish } from "./publish-batcher.js";
import { QueueSweeper } from "./queue-sweeper.js";
import { openRedis, type RedisClient } from "./redis-connector.js";
import type { ResolvedRedisOptions } from "./redis-options.js";
import { openReplyQueue } from "./reply-queue.js";
import { SettleBatcher, settledEntry } from "./settle-batcher.js";
import { type DeliveryContext, StreamDelivery } from "./stream-delivery.js";
import { autoClaim, type CountedEntry, readGroup, withDeliveryCounts } from "./stream-reads.js";
import { StreamSubscription, type SubscriptionHost } from "./stream-subscription.js";
import { TopologyStore } from "./topology-store.js";

/** What a connect opened, before it is known to be kept. */
interface OpenedRedis {
  command: ScriptedRedis;
  publisher: ScriptedRedis;
  /** Redis's clock minus ours. */
  clockOffset: number;
}

/** Publishes retried when the bindings changed under them, before giving up. */
const MAX_ROUTE_ATTEMPTS = 20;

/**
 * One carrot connection to Redis: a shared command connection for
 * topology, settles and leases, one for publishes, and one blocking
 * connection per subscription.
 */
export class RedisBackend extends BackendEventEmitter implements Backend {
  readonly name = "redis";
  readonly capabilities: Capabilities;
  /** Where this backend's keys live in Redis (prefix, per-queue streams, topology hashes), for operators reading Redis directly. */
  readonly keys: KeyLayout;
  /** Names this connection's consumers in every group. */
  readonly id = randomUUID().slice(0, 12);
  readonly #options: ResolvedRedisOptions;
  readonly #subscriptions = new Map<string, StreamSubscription>();
  /** Every (stream, consumer) this connection used, to leave the groups tidy on close. */
  readonly #consumers = new Map<string, LeaseGroup>();
  #command?: ScriptedRedis;
  /** Publishes only: never resent after a reconnect (a resend could store a message twice). */
  #publisher?: ScriptedRedis;
  #publishes?: PublishBatcher | ClusterPublisher;
  #topology?: TopologyStore;
  #keeper?: LeaseKeeper<LeaseGroup>;
  #batcher?: SettleBatcher;
  #sweeper?: QueueSweeper;
  /** Stops the liveness pings of the command and publish connections. */
  #stopPings: (() => void)[] = [];
  /** Follows the command connection: the connection is up when it is. */
  readonly #lifecycle: ConnectionLifecycle<OpenedRedis>;
  readonly #tracker: DeliveryTracker<StreamDelivery>;
  /** Redis's clock minus ours: expiry times are Redis times. */
  #clockOffset = 0;

  /** @internal Built by the redis:// factory, from `resolveRedisOptions`. */
  constructor(options: ResolvedRedisOptions) {
    super();
    this.#options = options;
    this.keys = new KeyLayout(options.settings.prefix);
    this.capabilities = redisCapabilities(options.settings.maxMessageSize);
    this.#lifecycle = new ConnectionLifecycle<OpenedRedis>(
      this,
      options.display,
      `redis connection (${options.display})`,
    );
    this.#tracker = new DeliveryTracker({
      name: "redis",
      describe: (delivery) => `message ${delivery.id} from '${delivery.info.queue}'`,
      giveBack: (deliveries) => this.#giveBack(deliveries),
    });
  }

  override toString(): string {
    return `RedisBackend(${this.#options.display})`;
  }

  connect(): Promise<void> {
    return this.#lifecycle.connect(
      () => this.#open(),
      ({ command, publisher }) => {
        command.disconnect();
        publisher.disconnect();
      },
      (opened) => this.#adopt(opened),
    );
  }

  /** Opens the command and publish connections and reads Redis's clock; starts nothing. */
  async #open(): Promise<OpenedRedis> {
    const { redis, display, connectTimeout, cluster } = this.#options;
    const command = withScripts(
      // Not enableAutoPipelining: in ioredis 6 its commands can hang for good when the
      // connection drops mid-pipeline. Concurrent commands are pipelined on the socket anyway.
      await openRedis(redis, display, connectTimeout, cluster),
    );
    const publisher = await openRedis(
      { ...redis, autoResendUnfulfilledCommands: false },
      display,
      connectTimeout,
      cluster,
    ).catch((error: unknown) => {
      command.disconnect();
      throw error;
    });
    publisher.on("error", () => {}); // reported through the command connection
    const [seconds = 0, micros = 0] = await command.time();
    const clockOffset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Date.now();
    return { command, publisher: withScripts(publisher), clockOffset };
  }

  /** The connect is kept: what works on the connections is made, and the background work starts. */
  #adopt({ command, publisher, clockOffset }: OpenedRedis): void {
    const { settings, cluster } = this.#options;
    this.#command = command;
    this.#publisher = publisher;
    this.#clockOffset = clockOffset;
    this.#topology = new TopologyStore(command, this.keys);
    const report = (error: unknown) => this.#reportError(error);
    const topology = this.#topology;
    // The mode is chosen once: one Redis keeps its single-script publish and release.
    const slots = cluster && {
      keys: this.keys,
      replicas: settings.replicas,
      replicaTimeout: this.#options.connectTimeout,
      reportError: report,
    };
    const outcome: PublishOutcome = (publish, stored) => this.#outcome(publish, stored);
    this.#publishes = slots
      ? new ClusterPublisher({ ...slots, redis: publisher }, outcome)
      : new PublishBatcher(publisher, this.keys, outcome);
    const releaseDelayed = slots
      ? () => releaseDueAcrossSlots({ ...slots, redis: command, command, topology })
      : () => releaseDue({ command, keys: this.keys, topology, reportError: report });
    this.#keeper = new LeaseKeeper({
      leaseMs: settings.visibilityTimeout,
      fixedLease: true,
      renew: touchLeases(command, this.keys.group),
      onError: report,
    });
    this.#batcher = new SettleBatcher(command, this.keys.group);
    this.#watch(command);
    this.#sweeper = new QueueSweeper({
      command,
      keys: this.keys,
      cluster: Boolean(cluster),
      now: () => Date.now() + this.#clockOffset,
      releaseDelayed,
      deadLetter: (queue, entry, reason) => this.#deadLetter(queue, entry, reason),
      reportError: report,
    });
    this.#sweeper.start();
    if (settings.heartbeat > 0)
      this.#stopPings = [command, publisher].map((redis) => pingEvery(redis, settings.heartbeat));
  }

  /** Turns ioredis's connection events into carrot's. */
  #watch(command: RedisClient): void {
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
      this.#lifecycle.lost(lostError(host, reason, secrets));
    });
    command.on("reconnecting", () => {
      attempts++;
    });
    command.on("ready", () => {
      reason = undefined;
      this.#lifecycle.regained(attempts);
      attempts = 0;
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.close(() => this.#release());
  }

  /** Closing an open connection: background work stops, deliveries go back, the consumers leave. */
  async #release(): Promise<void> {
    const command = this.#command!;
    // Sends of this turn go out now, ahead of the quit, not into a closed socket.
    this.#publishes!.flush();
    this.#sweeper!.stop();
    for (const stop of this.#stopPings) stop();
    await Promise.all([...this.#subscriptions.values()].map((s) => s.cancel()));
    this.#subscriptions.clear();
    // Settles already asked for go out before the requeues below and the quit.
    this.#batcher!.flush();
    this.#keeper!.clear(); // no more renewals: the tracker gives the unsettled back
    const tidy = async () => {
      await this.#tracker.close();
      for (const { stream, consumer } of this.#consumers.values()) {
        await command.carrotDropConsumer(stream, this.keys.group, consumer);
      }
    };
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
  }

  /** Unsettled deliveries go back to their queues on close, not after the visibility timeout. */
  async #giveBack(deliveries: StreamDelivery[]): Promise<void> {
    const byConsumer = new Map<LeaseGroup, string[]>();
    for (const { group, id } of deliveries) {
      const ids = byConsumer.get(group);
      if (ids) ids.push(id);
      else byConsumer.set(group, [id]);
    }
    for (const [{ stream, consumer }, ids] of byConsumer) {
      await this.#command!.carrotRequeue(stream, this.keys.group, consumer, ...ids);
    }
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

  async checkQueue(name: string): Promise<void> {
    await this.#run(`check queue '${name}'`, ({ topology }) => topology.assertQueueExists(name));
  }

  async checkExchange(name: string): Promise<void> {
    await this.#run(`check exchange '${name}'`, ({ topology }) =>
      topology.assertExchangeExists(name),
    );
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

  /**
   * Every send's path. Open, with the route cached and no delay (the common
   * case), it returns the batch entry's own promise, which the batcher
   * settles with the send's outcome (`#outcome`): no async function's frame
   * and awaits, nor a promise chained on the entry's, which cost a publish
   * more than the rest of this method. Anything else takes `#publishRouted`.
   */
  publish(request: PublishRequest): Promise<void> {
    const { exchange, routingKey, message, delay = 0 } = request;
    const route =
      this.#lifecycle.state === "open" && delay <= 0
        ? this.#topology!.routeCached(exchange, routingKey, message.headers)
        : undefined;
    if (route === undefined) return this.#publishRouted(request, 0);
    try {
      return this.#publishes!.publish(routed(request, route, "", 0));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A publish that waits for the connection, is delayed, routes by bindings
   * read from Redis, or is routed again (`attempt`: the routings of this
   * send before it that found the bindings changed).
   */
  async #publishRouted(request: PublishRequest, attempt: number): Promise<void> {
    const { exchange, routingKey, message, delay = 0 } = request;
    const topology =
      this.#lifecycle.state === "open" ? this.#topology! : (await this.#ready()).topology;
    // Whole ms, rounded up: never early.
    const held = delay > 0 ? String(Math.ceil(delay)) : "";
    const route =
      topology.routeCached(exchange, routingKey, message.headers) ??
      (await topology.route(exchange, routingKey, message.headers).catch((error: unknown) => {
        throw commandError(error, `route through exchange '${exchange}'`);
      }));
    return this.#publishes!.publish(routed(request, route, held, attempt));
  }

  /**
   * A send's outcome once stored in `stored` queues (or held), for the
   * batchers (`PublishOutcome`): the sweeper told what to watch, and an
   * unroutable mandatory send refused. -1, the bindings changed under its
   * route: routed again, up to MAX_ROUTE_ATTEMPTS in all.
   */
  #outcome({ request, attempt }: RoutedPublish, stored: number): BatchOutcome<void> {
    const { exchange, routingKey, message, mandatory, delay = 0 } = request;
    if (stored === -1) {
      this.#topology!.invalidate(exchange);
      if (attempt + 1 < MAX_ROUTE_ATTEMPTS) return this.#publishRouted(request, attempt + 1);
      return new PublishNackedError(
        `the bindings of exchange '${exchange}' kept changing while routing; the message was not stored, send it again`,
      );
    }
    if (delay > 0) this.#sweeper!.wakeAt(Date.now() + this.#clockOffset + delay);
    else if (message.properties.expiration !== undefined) this.#sweeper!.poke();
    if (stored === 0 && mandatory) {
      return new UnroutableError(
        `no queue is bound to exchange '${exchange}' for routing key '${routingKey}'; the message was not stored`,
      );
    }
  }

  /**
   * Request-reply: a reply queue per connection whose keys expire
   * `visibilityTimeout` after this connection last refreshed them (see reply-queue.ts).
   */
  openReplies(handlers: ReplyHandlers): Promise<ReplyDestination> {
    return this.#run("open a reply queue", ({ command }) =>
      openReplyQueue(
        {
          backend: this,
          command,
          keys: this.keys,
          expiry: this.#options.settings.visibilityTimeout,
          reportError: (error) => this.#reportError(error),
        },
        handlers,
      ),
    );
  }

  get(queue: string, { noAck }: { noAck: boolean }): Promise<Delivery | null> {
    return this.#run(`get from queue '${queue}'`, async ({ command }) => {
      const stream = this.keys.stream(queue);
      const leases = this.#leaseGroup(stream, "get");
      const context = this.#deliveryContext(queue, leases);
      for (;;) {
        const read = await this.#readOne(command, queue, stream, leases.consumer);
        if (!read) return null;
        const delivery = this.#accept(context, read.entry, read.deliveries, noAck);
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
    const leases = this.#leaseGroup(stream, options.consumerTag);
    const { redis, display, connectTimeout, cluster } = this.#options;
    // A blocking read cut off by a reconnect fails instead of being resent:
    // resent, it would block again before the subscription can give back
    // what the lost reply held.
    const blocking = await openRedis(
      { ...redis, autoResendUnfulfilledCommands: false },
      display,
      connectTimeout,
      cluster,
    );
    blocking.on("error", () => {}); // the subscription's loop reports what matters
    const window = new PrefetchWindow(options.prefetch);
    const context = this.#deliveryContext(queue, leases, options.consumerTag, window);
    const host: SubscriptionHost = {
      command: this.#command!,
      keys: this.keys,
      visibilityTimeout: this.#options.settings.visibilityTimeout,
      claimInterval: this.#options.settings.claimInterval,
      heartbeat: this.#options.settings.heartbeat,
      heldIds: () => this.#keeper!.heldIds(leases),
      reportError: (error) => this.#reportError(error),
      deliver: (entry, deliveries) => {
        const delivery = this.#accept(context, entry, deliveries, options.noAck);
        if (delivery) onDelivery(delivery);
      },
    };
    const subscription = new StreamSubscription(host, blocking, queue, leases.consumer, window);
    this.#subscriptions.set(options.consumerTag, subscription);
    subscription.start();
    return {
      consumerTag: options.consumerTag,
      cancel: async () => {
        if (this.#subscriptions.get(options.consumerTag) !== subscription) return;
        this.#subscriptions.delete(options.consumerTag);
        // What it delivered stays leased (in its LeaseGroup) until settled or closed.
        await subscription.cancel();
      },
    };
  }

  /** One entry for `get`: first one another consumer left idle too long, else a new one. */
  async #readOne(
    command: ScriptedRedis,
    queue: string,
    stream: string,
    consumer: string,
  ): Promise<CountedEntry | null> {
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
      const [reclaimed] = await withDeliveryCounts(command, stream, group, claimed.entries);
      if (reclaimed) return reclaimed;
      const [entry] = await readGroup(command, stream, group, consumer, 1);
      return entry ? { entry, deliveries: 1 } : null;
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
    leases: LeaseGroup,
    consumerTag?: string,
    window?: PrefetchWindow,
  ): DeliveryContext {
    return {
      queue,
      consumerTag,
      leases,
      keeper: this.#keeper!,
      tracker: this.#tracker,
      window,
      settles: this.#batcher!,
      deadLetter: (q, entry, reason) => this.#deadLetter(q, entry, reason),
    };
  }

  /**
   * A read entry becomes a Delivery, unless it expired: then it is
   * dead-lettered (if configured) and removed, and undefined is returned.
   */
  #accept(
    context: DeliveryContext,
    entry: StoredEntry,
    deliveries: number,
    noAck: boolean,
  ): Delivery | undefined {
    const { queue, leases, settles } = context;
    // The clock is read only for entries that can expire: most cannot.
    if (
      entry.expiresAt !== undefined &&
      isExpired(entry.expiresAt, Date.now() + this.#clockOffset)
    ) {
      this.#deadLetter(queue, entry, "expired")
        .then(() => settles.settle(leases, settledEntry(entry.id), "ack"))
        .catch((error: unknown) => this.#reportError(error));
      return undefined;
    }
    if (noAck) {
      settles
        .settle(leases, settledEntry(entry.id), "ack")
        .catch((error: unknown) => this.#reportError(error));
    }
    const { message } = entry;
    if (!message.unreadable && message.body.byteLength > this.capabilities.maxMessageSize) {
      // Another client's XADD is not held to the limit carrot's sends are: refused here.
      message.unreadable = new TooLargeToDecodeError(
        `its body is ${message.body.byteLength} bytes; this backend takes at most ${this.capabilities.maxMessageSize}`,
      );
    }
    return new StreamDelivery(context, entry, deliveries, noAck);
  }

  /** Re-routes a rejected or expired message through its queue's dead-letter exchange. */
  async #deadLetter(queue: string, entry: StoredEntry, reason: DeadLetterReason): Promise<void> {
    const declaration = await this.#topology!.queue(queue).catch(() => undefined);
    const { exchange, routingKey } = entry;
    const target = declaration && deadLetterTarget(declaration.arguments, routingKey);
    if (!target) return;
    const origin = { queue, exchange, routingKey, reason };
    const message = deadLetterMessage(entry.message, origin, Date.now() + this.#clockOffset);
    await this.publish({ ...target, message, mandatory: false }).catch((error: unknown) => {
      const unexpected = unpublishedDeadLetter(error);
      if (unexpected) this.#reportError(unexpected);
    });
  }

  /** This connection's consumer `tag` of `stream`: one LeaseGroup per name, kept to leave the groups tidy on close. */
  #leaseGroup(stream: string, tag: string): LeaseGroup {
    const consumer = `${this.id}:${tag}`;
    const key = `${stream}\0${consumer}`;
    let group = this.#consumers.get(key);
    if (!group) {
      group = new LeaseGroup(stream, consumer);
      this.#consumers.set(key, group);
    }
    return group;
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
    this.#lifecycle.assertNotClosed();
    if (this.#lifecycle.state === "new") await this.connect();
    return { command: this.#command!, topology: this.#topology! };
  }
}

/**
 * What the publish batcher stores for `request` along `route`; `held`: the
 * delay in whole ms, "" for none; `attempt`: the send's routings before.
 */
function routed(
  request: PublishRequest,
  route: RoutingDecision,
  held: string,
  attempt: number,
): RoutedPublish {
  const { exchange, routingKey, message } = request;
  const { body, properties } = message;
  return {
    request,
    attempt,
    route,
    expiration: properties.expiration === undefined ? "" : String(properties.expiration),
    delay: held,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    envelope: encodeEnvelope(exchange, routingKey, message),
  };
}
