import {
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  assertSameExchange,
  type Backend,
  BackendEventEmitter,
  type BindingDeclaration,
  type Capabilities,
  CarrotError,
  ClosedError,
  ConnectionLifecycle,
  ConnectionLostError,
  type ConsumeOptions,
  clientError,
  type DeadLetterTarget,
  DeclarationConflictError,
  DecodeError,
  type Delivery,
  type DeliveryInfo,
  DeliveryTracker,
  deadLetterMessage,
  deadLetterTarget,
  type ExchangeDeclaration,
  type ExchangeType,
  Lease,
  LeaseKeeper,
  MessageStateError,
  MessageTooLargeError,
  NotFoundError,
  type PublishRequest,
  type QueueArguments,
  type QueueDeclaration,
  type RawMessage,
  type ReplyDestination,
  type ReplyHandlers,
  redactUrl,
  type Subscription,
  UnsupportedFeatureError,
  unpublishedDeadLetter,
} from "@carrot/core/backend";
import { translateAwsError } from "./aws-errors.js";
import { BindingTable } from "./binding-table.js";
import { bodyIntact } from "./body-checksum.js";
import { sqsCapabilities } from "./capabilities.js";
import { ClientAgents } from "./client-agents.js";
import {
  DELAY_ATTRIBUTE,
  delayOnWire,
  MAX_HOLD_SECONDS,
  RECEIVE_SYSTEM_ATTRIBUTES,
} from "./delayed-delivery.js";
import { deliveryCount } from "./delivery-count.js";
import { fromWire, type Routed, SizeLimit, toWire } from "./envelope.js";
import { messageIds } from "./fifo-ids.js";
import { changeVisibilities, RENEWAL_BATCH } from "./lease-keeper.js";
import { COPY_RESERVE_BYTES, copyOf, entrySize } from "./message-copies.js";
import { MessageHolds } from "./message-holds.js";
import { QueueDirectory, type QueueInfo } from "./queue-directory.js";
import { failedQueueName } from "./queue-names.js";
import { watchReachability } from "./reachability.js";
import { openReplyQueue } from "./reply-queue.js";
import { type SendEntry, SqsBatches } from "./sqs-batches.js";
import {
  type ResolvedSqsOptions,
  resolveSqsOptions,
  type SqsBackendOptions,
} from "./sqs-options.js";
import { SqsSubscription } from "./sqs-subscription.js";

/**
 * Seconds a request may take beyond what it waits on purpose: two
 * heartbeats, as a missed pair means a dead connection in AMQP, or else 15.
 */
function silenceGrace(heartbeat: number | undefined): number {
  return heartbeat ? 2 * heartbeat : 15;
}

/** prefetch 0 ("no limit") still bounds what one subscription holds unsettled. */
const UNLIMITED_PREFETCH = 1000;
const MAX_RECEIVERS = 4;

/**
 * carrot on Amazon SQS. Queues are SQS queues; exchanges and bindings are
 * virtual (bindings live in the bound queues' tags, see BindingTable);
 * sends, deletes and visibility changes are batched; deliveries are kept
 * alive by leases until settled.
 */
export class SqsBackend extends BackendEventEmitter implements Backend {
  readonly name = "sqs";
  readonly capabilities: Capabilities;
  /** Private: it holds the credentials and the endpoint as given, which inspect() must not show. */
  readonly #options: ResolvedSqsOptions;
  readonly #size: SizeLimit;
  readonly #where: string;
  #client?: SQSClient;
  #sendClient?: SQSClient;
  #agents: readonly ClientAgents[] = [];
  /** Destroys the clients and their agents. */
  #destroy = () => {};
  #heartbeat?: NodeJS.Timeout;
  #recovering?: NodeJS.Timeout;
  #directory?: QueueDirectory;
  #table?: BindingTable;
  readonly #exchanges = new Map<string, ExchangeDeclaration>();
  readonly #subscriptions = new Set<SqsSubscription>();
  readonly #batches: SqsBatches;
  /** Leases by queue URL, renewed from receipt until settled. */
  readonly #leases: LeaseKeeper<string>;
  /** The unsettled deliveries (their leases): settled once, given back on close. */
  readonly #tracker: DeliveryTracker<Lease<string>>;
  readonly #lifecycle: ConnectionLifecycle<OpenedClients>;
  /** Holds back messages received before they are due. */
  readonly #holds: MessageHolds;
  /** The longest visibility one hold asks for: what the delivery count reckons holds by. */
  readonly #holdSeconds: number;

  constructor(options: SqsBackendOptions = {}) {
    super();
    this.#options = resolveSqsOptions(options);
    this.#size = new SizeLimit(this.#options.maxMessageSize);
    this.capabilities = sqsCapabilities(this.#size.maxBody);
    this.#where = this.#options.endpoint
      ? redactUrl(this.#options.endpoint)
      : `the ${this.#options.region ?? "default"} region`;
    this.#batches = new SqsBatches(
      () => this.client,
      () => this.#sendClient ?? this.client,
      this.#where,
      (queue) => this.#directory?.forget(queue.name),
    );
    this.#leases = new LeaseKeeper({
      leaseMs: this.#options.visibilityTimeout * 1000,
      maxHoldMs: this.#options.maxHold * 1000,
      batchSize: RENEWAL_BATCH,
      renew: changeVisibilities(this.#batches),
      onError: (error) => this.emit("error", { error: error as Error }),
    });
    this.#tracker = new DeliveryTracker({
      name: "SQS",
      describe: ({ group }) => `a message from '${group.slice(group.lastIndexOf("/") + 1)}'`,
      // Visible again at once, for the next consumer.
      giveBack: (leases) =>
        Promise.allSettled(
          leases.map(({ group, id }) => this.#batches.changeVisibility(group, id, 0)),
        ).then(() => undefined),
    });
    this.#lifecycle = new ConnectionLifecycle(this, this.#where, "SQS connection");
    this.#holdSeconds = Math.min(this.#options.maxHold, MAX_HOLD_SECONDS);
    this.#holds = new MessageHolds(
      this.#batches,
      { maxNativeDelay: this.#options.maxNativeDelay, holdSeconds: this.#holdSeconds },
      (error) => this.emit("error", { error }),
    );
  }

  /** The SDK client (for what carrot does not cover); available after connect. */
  get client(): SQSClient {
    if (!this.#client) throw new ClosedError("the SQS backend is not connected");
    return this.#client;
  }

  /** The client sends go through: the same settings, without the SDK's retries. */
  get sendClient(): SQSClient {
    if (!this.#sendClient) throw new ClosedError("the SQS backend is not connected");
    return this.#sendClient;
  }

  connect(): Promise<void> {
    return this.#lifecycle.connect(
      () => this.#connect(),
      ({ destroy }) => destroy(),
      (opened) => this.#adopt(opened),
    );
  }

  /** Builds the two clients and checks that SQS answers. */
  async #connect(): Promise<OpenedClients> {
    const { region, endpoint, clientConfig, waitTimeSeconds, connectTimeout, prefix, heartbeat } =
      this.#options;
    const handler = {
      connectionTimeout: connectTimeout,
      // Long polls answer within waitTimeSeconds, other requests at once: a
      // request silent for longer than that and a grace is on a connection
      // that died without a word (one a NAT or a firewall forgot), and
      // would otherwise wait for good. The SDK only warns unless told to
      // fail it; failed, it is retried (receives) or reported (sends).
      requestTimeout: (waitTimeSeconds + silenceGrace(heartbeat)) * 1000,
      throwOnRequestTimeout: true,
    };
    const configWith = ({ httpAgent, httpsAgent }: ClientAgents) => ({
      ...(region ? { region } : {}),
      ...(endpoint ? { endpoint } : {}),
      requestHandler: { ...handler, httpAgent, httpsAgent },
      md5: false as const, // carrot compares the MD5s itself, per message (body-checksum.ts)
      // The middleware is final before the first request (the reachability
      // watch below), so the SDK resolves it once instead of on every request.
      cacheMiddleware: true,
      ...clientConfig,
    });
    const agents = [new ClientAgents(), new ClientAgents()] as const;
    const client = new SQSClient(configWith(agents[0]));
    // Sends are never retried by the SDK: a SendMessageBatch whose answer was
    // lost may have been stored, and sending it again would make a silent
    // duplicate that looks new. It fails as "outcome unknown" instead.
    const sendClient = new SQSClient({ ...configWith(agents[1]), maxAttempts: 1 });
    const destroy = () => {
      client.destroy();
      sendClient.destroy();
      for (const a of agents) a.destroy();
    };
    // Watched from the probe on, which the lifecycle does not report as a
    // disconnect: a connection that never opened was never up.
    const reachability = watchReachability({
      down: (error) => this.#unreachable(error),
      up: (attempt) => this.#reachableAgain(attempt),
    });
    reachability.watch(client);
    reachability.watch(sendClient);
    try {
      await client.send(
        new ListQueuesCommand({ ...(prefix ? { QueueNamePrefix: prefix } : {}), MaxResults: 1 }),
        {
          abortSignal: AbortSignal.timeout(connectTimeout),
        },
      );
    } catch (error) {
      destroy();
      throw translateAwsError(error, this.#where, "connect");
    }
    return { client, sendClient, agents, destroy };
  }

  /** Takes the clients of a connect that is kept into use. */
  #adopt({ client, sendClient, agents, destroy }: OpenedClients): void {
    const { prefix, bindingRefresh, heartbeat } = this.#options;
    this.#client = client;
    this.#sendClient = sendClient;
    this.#agents = agents;
    this.#destroy = destroy;
    if (heartbeat) this.#heartbeat = this.#probeEvery(heartbeat);
    this.#directory = new QueueDirectory(client, this.#options);
    this.#table = new BindingTable(client, prefix, bindingRefresh);
  }

  /** A request attempt failed on the network: "disconnect", once per outage. */
  #unreachable(error: Error): void {
    for (const agents of this.#agents) agents.closeIdle();
    clearTimeout(this.#recovering);
    this.#recovering = undefined;
    if (!this.#lifecycle.up) return; // down already, or not open (then the connect fails)
    this.#lifecycle.lost(
      clientError(
        ConnectionLostError,
        `SQS at ${this.#where} is out of reach: a request failed on the network (${error.message})`,
        error,
      ),
    );
  }

  /**
   * Requests work again; "reconnect" once a long poll cut by the outage can
   * no longer take a message: SQS may still hold it open for up to
   * waitTimeSeconds, and would hand it a message no one will see (until the
   * visibility timeout brings it back, marked redelivered).
   */
  #reachableAgain(attempt: number): void {
    if (this.#lifecycle.state !== "open" || this.#lifecycle.up || this.#recovering) return;
    this.#recovering = setTimeout(() => {
      this.#recovering = undefined;
      this.#lifecycle.regained(attempt);
    }, this.#options.waitTimeSeconds * 1000).unref();
  }

  /**
   * With `heartbeat`, a cheap request every so many seconds, so that an idle
   * connection also learns (and reports) that SQS went out of reach and came
   * back; consumers' long polls find it out by themselves.
   */
  #probeEvery(seconds: number): NodeJS.Timeout {
    const { prefix } = this.#options;
    return setInterval(() => {
      this.#client
        ?.send(
          new ListQueuesCommand({ ...(prefix ? { QueueNamePrefix: prefix } : {}), MaxResults: 1 }),
          {
            abortSignal: AbortSignal.timeout(seconds * 1000),
          },
        )
        .catch(() => undefined);
    }, seconds * 1000).unref();
  }

  /**
   * Stops receiving, gives unsettled messages back (visible at once) and waits
   * for batches in flight. Long polls still in flight are not cut (that could
   * hide the messages SQS picked for them): they finish within
   * waitTimeSeconds, hand back what they got, and then the client is closed.
   */
  close(): Promise<void> {
    return this.#lifecycle.close(() => this.#release());
  }

  async #release(): Promise<void> {
    const subscriptions = [...this.#subscriptions];
    this.#subscriptions.clear();
    const cancelled = Promise.all(subscriptions.map((subscription) => subscription.cancel()));
    this.#leases.clear(); // no more renewals: the tracker gives the messages back
    await this.#tracker.close();
    await cancelled;
    await this.#batches.idle();
    clearInterval(this.#heartbeat);
    clearTimeout(this.#recovering);
    const destroy = this.#destroy;
    Promise.all(subscriptions.map((subscription) => subscription.drained))
      .then(async () => {
        await this.#batches.idle();
      })
      .finally(destroy);
  }

  // Topology

  async declareExchange(exchange: ExchangeDeclaration): Promise<void> {
    const { table } = this.#open();
    const local = this.#exchanges.get(exchange.name);
    if (local) return assertSameExchange(local, exchange);
    const snapshot = await this.#call(`declare exchange '${exchange.name}'`, () =>
      table.snapshot(),
    );
    const { type } = table.bindingsOf(snapshot, exchange.name);
    if (type !== undefined && type !== exchange.type) {
      throw new DeclarationConflictError(
        `exchange '${exchange.name}' already exists as a ${type} exchange (its bindings say so); declare it with the same type, or delete it first`,
      );
    }
    this.#exchanges.set(exchange.name, { ...exchange });
  }

  async declareQueue(queue: QueueDeclaration): Promise<void> {
    const { directory, table } = this.#open();
    const info = await this.#call(`declare queue '${queue.name}'`, () => directory.declare(queue));
    table.recordQueue(info.url, info.declaration ?? queue);
  }

  /** `passive`: the queue exists, as SQS says now (not as this process remembers it). */
  async checkQueue(name: string): Promise<void> {
    const { directory } = this.#open();
    directory.forget(name);
    await this.#call(`check queue '${name}'`, () => directory.info(name));
  }

  /**
   * `passive`: the exchange exists. SQS keeps no exchanges: one exists for
   * carrot once this connection declared it or a queue's binding tags name
   * it, so one that another process declared and bound nothing to fails.
   */
  async checkExchange(name: string): Promise<void> {
    if (this.#exchanges.has(name)) return;
    const { table } = this.#open();
    const snapshot = await this.#call(`check exchange '${name}'`, () =>
      table.snapshot({ fresh: true }),
    );
    if (table.bindingsOf(snapshot, name).type === undefined) {
      throw new NotFoundError(
        `no exchange named '${name}': on SQS an exchange exists once this connection declared it or a queue is bound to it`,
      );
    }
  }

  async bindQueue(binding: BindingDeclaration): Promise<void> {
    const { directory, table } = this.#open();
    const type = await this.#exchangeType(binding.exchange);
    const info = await this.#call(`bind queue '${binding.queue}'`, () =>
      directory.info(binding.queue),
    );
    await this.#call(`bind queue '${binding.queue}'`, () => directory.bind(binding, type));
    if (info.declaration) table.recordQueue(info.url, info.declaration);
    table.recordBinding(binding, type);
  }

  async unbindQueue(binding: BindingDeclaration): Promise<void> {
    const { directory, table } = this.#open();
    await this.#call(`unbind queue '${binding.queue}'`, () => directory.unbind(binding));
    table.recordUnbinding(binding);
  }

  /** Removes the exchange here and its bindings (tags) everywhere. */
  async deleteExchange(name: string): Promise<void> {
    const { directory, table } = this.#open();
    this.#exchanges.delete(name);
    const snapshot = await this.#call(`delete exchange '${name}'`, () =>
      table.snapshot({ fresh: true }),
    );
    const { bindings } = table.bindingsOf(snapshot, name);
    await Promise.all(bindings.map((binding) => directory.unbind(binding).catch(() => undefined)));
    table.recordExchangeDeleted(name);
  }

  async deleteQueue(name: string): Promise<void> {
    const { directory, table } = this.#open();
    await this.#call(`delete queue '${name}'`, () => directory.delete(name));
    table.recordQueueDeleted(name);
  }

  /** Receives and deletes the ready messages until none is left: an exact count, and unacked ones stay (as in AMQP). */
  async purgeQueue(name: string): Promise<number> {
    const { directory, client } = this.#open();
    const info = await this.#call(`purge queue '${name}'`, () => directory.info(name));
    let count = 0;
    for (;;) {
      const { Messages = [] } = await this.#call(`purge queue '${name}'`, () =>
        client.send(this.#receiveCommand(info, 10, 0)),
      );
      if (Messages.length === 0) return count;
      // Messages not due yet are not on the queue yet, as for a delayed AMQP message: held back, not purged.
      const { ready, held } = this.#holds.take(info, Messages);
      await Promise.all([
        ...ready.map((m) => this.#batches.delete(info.url, m.ReceiptHandle as string)),
        held,
      ]);
      count += ready.length;
    }
  }

  /**
   * Request-reply: a reply queue per connection, kept alive by a tag this
   * connection refreshes, swept by the next requester once stale for
   * `visibilityTimeout` (see reply-queue.ts).
   */
  async openReplies(handlers: ReplyHandlers): Promise<ReplyDestination> {
    const { client, directory, table } = this.#open();
    return this.#call("open a reply queue", () =>
      openReplyQueue(
        {
          backend: this,
          client,
          declare: async (queue, tags) => {
            const info = await directory.declare(queue, tags);
            table.recordQueue(info.url, info.declaration ?? queue);
            return info.url;
          },
          sqsName: (name) => directory.sqsName(name),
          expiry: this.#options.visibilityTimeout * 1000,
          reportError: (error) =>
            this.emit("error", {
              error: translateAwsError(error, this.#where, "keep the reply queues"),
            }),
        },
        handlers,
      ),
    );
  }

  // Messages

  /** `<queue>-failed`, or `<base>-failed.fifo` for a FIFO queue (see queue-names.ts). */
  failedQueueName(queue: string): string {
    return failedQueueName(queue);
  }

  measure(message: RawMessage): number {
    return this.#size.measure(message);
  }

  publish(request: PublishRequest): Promise<void> {
    const { exchange, routingKey, message } = request;
    try {
      const { directory } = this.#open();
      // The common case, a known queue through the default exchange, goes to the batch in this turn.
      const known = exchange === "" ? directory.cached(routingKey) : undefined;
      if (known) return this.#enqueue([known], request);
      return this.#targets(exchange, routingKey, message).then((queues) =>
        this.#enqueue(queues, request),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The queues a message goes to; queues that do not exist are left out (unroutable: dropped, as in AMQP). */
  async #targets(exchange: string, routingKey: string, message: RawMessage): Promise<QueueInfo[]> {
    const { directory } = this.#open();
    const names = exchange === "" ? [routingKey] : await this.#route(exchange, routingKey, message);
    const queues = await Promise.all(
      names.map((name) =>
        directory.info(name).catch((error: unknown) => {
          if (error instanceof NotFoundError) return undefined;
          throw translateAwsError(error, this.#where, `send to '${name}'`);
        }),
      ),
    );
    return queues.filter((queue) => queue !== undefined);
  }

  /**
   * Checks the exact size, the message ids and the delay against every
   * target queue first: refused for one, sent to none.
   */
  #enqueue(queues: QueueInfo[], request: PublishRequest): Promise<void> {
    if (queues.length === 0) return Promise.resolve();
    const { exchange, routingKey, message, delay } = request;
    const wire = toWire(message, { exchange, routingKey });
    // Room is kept for what a copy of it adds (message-copies.ts), and that covers a delay's attribute.
    const size = wire.size + COPY_RESERVE_BYTES;
    const entries: SendEntry[] = [];
    for (const queue of queues) {
      if (size > queue.maxMessageSize) {
        return Promise.reject(
          new MessageTooLargeError(
            `the message is ${size} bytes on SQS (body and attributes, and ${COPY_RESERVE_BYTES} kept for carrot's delay and count attributes) and queue '${queue.name}' takes at most ${queue.maxMessageSize}; nothing was sent`,
          ),
        );
      }
      try {
        const ids = messageIds(request, queue);
        const entry = { queue, body: wire.body, attributes: wire.attributes, ids };
        entries.push(delay ? this.#delayed(entry, delay) : entry);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (entries.length === 1) return this.#batches.send(entries[0] as SendEntry, size);
    return Promise.all(entries.map((entry) => this.#batches.send(entry, size))).then(
      () => undefined,
    );
  }

  /**
   * The entry with its delay (delayed-delivery.ts). SQS deletes a message
   * its retention period after it was sent, held back or not: a FIFO queue,
   * which holds the message itself, refuses a delay that ends later.
   */
  #delayed(entry: SendEntry, delay: number): SendEntry {
    const { queue } = entry;
    if (queue.fifo && delay >= queue.retentionSeconds * 1000) {
      throw new UnsupportedFeatureError(
        `the sqs backend cannot delay a message by ${delay} ms on FIFO queue '${queue.name}': SQS deletes its messages ${queue.retentionSeconds} s after they were sent (MessageRetentionPeriod), held back or not; nothing was sent`,
      );
    }
    const { delaySeconds, attribute } = delayOnWire(
      delay,
      queue.fifo,
      this.#options.maxNativeDelay,
    );
    if (attribute === undefined) return { ...entry, delaySeconds };
    return {
      ...entry,
      delaySeconds,
      attributes: { ...entry.attributes, [DELAY_ATTRIBUTE]: attribute },
    };
  }

  async get(queue: string, { noAck }: { noAck: boolean }): Promise<Delivery | null> {
    const { directory, client } = this.#open();
    const info = await this.#call(`get from '${queue}'`, () => directory.info(queue));
    const { Messages = [] } = await this.#call(`get from '${queue}'`, () =>
      client.send(this.#receiveCommand(info, 1, 0)),
    );
    const {
      ready: [message],
      held,
    } = this.#holds.take(info, this.#intact(info, Messages));
    await held;
    if (!message) return null; // none, or one not due yet (now held back)
    if (noAck) await this.#batches.delete(info.url, message.ReceiptHandle as string);
    return this.#delivery(info, message, noAck);
  }

  async consume(
    queue: string,
    options: ConsumeOptions,
    onDelivery: (delivery: Delivery) => void,
  ): Promise<Subscription> {
    const { directory, client } = this.#open();
    const info = await this.#call(`consume from '${queue}'`, () => directory.info(queue));
    const capacity = options.prefetch > 0 ? options.prefetch : UNLIMITED_PREFETCH;
    const subscription = new SqsSubscription({
      client,
      queueUrl: info.url,
      consumerTag: options.consumerTag,
      capacity,
      receivers: info.fifo ? 1 : Math.min(MAX_RECEIVERS, Math.ceil(capacity / 10)),
      waitTimeSeconds: this.#options.waitTimeSeconds,
      visibilityTimeout: this.#options.visibilityTimeout,
      reconnect: this.#options.reconnect,
      deliver: async (received, sub) => {
        const { ready: messages, held } = this.#holds.take(info, this.#intact(info, received));
        if (options.noAck) {
          // At most once: gone from the queue before the application sees them.
          await Promise.all(
            messages.map((m) => this.#batches.delete(info.url, m.ReceiptHandle as string)),
          );
          for (const m of messages) onDelivery(this.#delivery(info, m, true, options.consumerTag));
        } else {
          for (const m of messages)
            onDelivery(this.#delivery(info, m, false, options.consumerTag, sub));
        }
        // Awaited, so that close() finds no hold half done (a copy sent, its original not yet deleted).
        await held;
      },
      handBack: async (received) => {
        const { ready, held } = this.#holds.take(info, received);
        await Promise.all([...ready.map((m) => this.#giveBack(info, m)), held]);
      },
      onError: (error) =>
        this.emit("error", {
          error: translateAwsError(error, this.#where, `receive from '${queue}'`),
        }),
    });
    this.#subscriptions.add(subscription);
    subscription.start();
    return {
      consumerTag: options.consumerTag,
      cancel: async () => {
        await subscription.cancel();
        // Kept until its last long poll is back, so that close() does not cut it.
        subscription.drained.finally(() => this.#subscriptions.delete(subscription));
      },
    };
  }

  /**
   * A message a cancelled subscription received but never delivered (its
   * last long poll, still in flight when it stopped, took it: on close, often
   * one the closing connection had just given back). Made visible again it
   * would count as one more delivery (`redelivered`, `deliveryCount`)
   * without anyone having seen it; so on a standard queue it goes back as a
   * copy of itself that carries its deliveries (message-copies.ts), and the
   * original is deleted once the copy is in. Visibility 0 instead, where SQS
   * counts this receive: FIFO queues (a copy would be deduplicated away or
   * reordered), queues with a native RedrivePolicy (a copy would restart
   * SQS's count toward `x-max-receive-count`), bodies changed on the way (a
   * copy would store the change), and a copy that fails. Messages not due
   * yet never come here: they are held back.
   */
  #giveBack(info: QueueInfo, message: Message): Promise<void> {
    const handle = message.ReceiptHandle as string;
    const makeVisible = () =>
      this.#batches.changeVisibility(info.url, handle, 0).catch(() => undefined);
    if (
      info.fifo ||
      info.declaration?.arguments["x-max-receive-count"] !== undefined ||
      !bodyIntact(message.Body ?? "", message.MD5OfBody)
    )
      return makeVisible();
    // Due already: the copy goes without the delay. A fair-queue tenant stays with it.
    const copy = copyOf(info, message, this.#holdSeconds);
    return this.#batches
      .send(copy, entrySize(copy))
      .then(
        () => this.#batches.delete(info.url, handle),
        () => makeVisible(),
      )
      .catch(() => undefined);
  }

  /**
   * The received messages whose body is the one SQS holds. The others were
   * changed on the way: they are made visible again at once, to be received
   * again, and reported, never handed out.
   */
  #intact(info: QueueInfo, messages: Message[]): Message[] {
    const intact = messages.filter((m) => bodyIntact(m.Body ?? "", m.MD5OfBody));
    if (intact.length === messages.length) return messages;
    for (const m of messages) {
      if (intact.includes(m)) continue;
      this.#batches.changeVisibility(info.url, m.ReceiptHandle as string, 0).catch(() => undefined);
      this.emit("error", {
        error: new DecodeError(
          `a message from '${info.name}' arrived with another body than SQS holds (its MD5 differs): it was changed on the way, so it was not delivered and SQS will deliver it again`,
        ),
      });
    }
    return intact;
  }

  #receiveCommand(info: QueueInfo, count: number, waitTimeSeconds: number): ReceiveMessageCommand {
    return new ReceiveMessageCommand({
      QueueUrl: info.url,
      MaxNumberOfMessages: count,
      WaitTimeSeconds: waitTimeSeconds,
      VisibilityTimeout: this.#options.visibilityTimeout,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: RECEIVE_SYSTEM_ATTRIBUTES,
    });
  }

  #delivery(
    info: QueueInfo,
    received: Message,
    noAck: boolean,
    consumerTag?: string,
    subscription?: SqsSubscription,
  ): Delivery {
    const { message, exchange, routingKey } = fromWire(received.Body, received.MessageAttributes);
    const handle = received.ReceiptHandle as string;
    const held = noAck ? undefined : this.#hold(new Lease(info.url, handle), subscription);
    const settle = async (action: () => Promise<void>) =>
      this.#tracker.settle(held, (lease) => {
        this.#leases.release(lease);
        return action();
      });
    const count = deliveryCount(received, this.#holdSeconds);
    const delivery: DeliveryInfo = {
      exchange,
      routingKey,
      // Delivered before: receives that only held the message back do not count.
      redelivered: count > 1,
      queue: info.name,
      consumerTag,
      deliveryCount: count,
    };
    // On a standard queue a group is a fair-queue tenant, not a group core must keep.
    const groupId = info.fifo ? received.Attributes?.MessageGroupId : undefined;
    if (groupId !== undefined) delivery.groupId = groupId;
    return {
      message,
      info: delivery,
      ack: () => settle(() => this.#batches.delete(info.url, handle)),
      reject: (requeue) =>
        settle(() =>
          requeue
            ? this.#batches.changeVisibility(info.url, handle, 0)
            : this.#deadLetter(
                info,
                message,
                { exchange, routingKey },
                handle,
                received.Attributes?.MessageGroupId,
              ),
        ),
      extend: async (seconds) => {
        if (held?.state === "held") {
          const lease = held.item;
          await this.#call("extend a delivery's lease", () => this.#leases.extend(lease, seconds));
        } else if (held?.state !== "lost") {
          throw new MessageStateError("cannot extend an SQS delivery that is already settled");
        }
      },
    };
  }

  /** Kept alive by its lease, and counted against its subscription's prefetch, until settled. */
  #hold(lease: Lease<string>, subscription?: SqsSubscription) {
    this.#leases.hold(lease);
    return this.#tracker.hold(lease, subscription?.window);
  }

  /**
   * reject(): re-published through the dead-letter exchange (or to the
   * dead-letter queue) when configured, in the message's group, with the
   * `x-death` record every backend adds; then deleted. What cannot be
   * dead-lettered for a reason of its own (no such exchange, too large with
   * its record) is deleted all the same, as RabbitMQ drops it, and reported;
   * only a failed connection leaves it on the queue for a retry.
   */
  async #deadLetter(
    info: QueueInfo,
    message: RawMessage,
    from: Routed,
    handle: string,
    groupId: string | undefined,
  ): Promise<void> {
    const args = info.declaration?.arguments ?? {};
    const target = deadLetterTarget(args, from.routingKey) ?? deadLetterQueue(args);
    if (target) {
      const origin = { queue: info.name, ...from, reason: "rejected" as const };
      await this.publish({
        ...target,
        message: deadLetterMessage(message, origin),
        mandatory: false,
        ...(groupId === undefined ? {} : { groupId }),
      }).catch((error: unknown) => {
        const unexpected = unpublishedDeadLetter(error);
        if (unexpected) this.emit("error", { error: unexpected });
      });
    }
    await this.#batches.delete(info.url, handle);
  }

  #route(exchange: string, routingKey: string, message: RawMessage): Promise<readonly string[]> {
    const { table } = this.#open();
    const declared = this.#exchanges.get(exchange)?.type;
    return this.#call(`route through '${exchange}'`, () =>
      table.route(exchange, routingKey, message.headers, declared),
    );
  }

  async #exchangeType(exchange: string): Promise<ExchangeType> {
    if (exchange === "")
      throw new NotFoundError(
        "the default exchange ('') cannot be bound: it routes to the queue named by the routing key",
      );
    const local = this.#exchanges.get(exchange)?.type;
    if (local) return local;
    const { table } = this.#open();
    const snapshot = await this.#call(`bind to exchange '${exchange}'`, () => table.snapshot());
    const { type } = table.bindingsOf(snapshot, exchange);
    if (type === undefined)
      throw new NotFoundError(`no exchange named '${exchange}': declare it before binding to it`);
    return type;
  }

  async #call<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof CarrotError) throw error;
      throw translateAwsError(error, this.#where, action);
    }
  }

  #open(): { client: SQSClient; directory: QueueDirectory; table: BindingTable } {
    this.#lifecycle.assertNotClosed();
    if (!this.#client || !this.#directory || !this.#table)
      throw new ClosedError("the SQS backend is not connected yet; call connect() first");
    return { client: this.#client, directory: this.#directory, table: this.#table };
  }
}

/** What a connect opened: the clients, their agents, and how to destroy them all. */
interface OpenedClients {
  client: SQSClient;
  sendClient: SQSClient;
  agents: readonly ClientAgents[];
  destroy: () => void;
}

/** A queue without a dead-letter exchange: its `x-dead-letter-queue` (SQS's redrive target), if any. */
function deadLetterQueue(args: QueueArguments): DeadLetterTarget | undefined {
  const queue = args["x-dead-letter-queue"];
  return typeof queue === "string" ? { exchange: "", routingKey: queue } : undefined;
}
