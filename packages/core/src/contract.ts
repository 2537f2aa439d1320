/**
 * The backend contract: everything a carrot backend implements, in one file.
 *
 * A backend is one connection to one broker. Core's Connection, Publisher and
 * Consumer do everything else (codecs, compression, schemas, size checks,
 * callbacks, iteration, error policy) and talk to the broker only through
 * this interface. A third-party backend implements `Backend`, exposes a
 * `BackendFactory`, and proves itself with `@carrot/conformance`.
 *
 * Rules every method follows:
 * - Errors are carrot errors (see errors.ts): a failed connect is a
 *   `ConnectionError` or one of its subclasses, a redeclare that differs is a
 *   `DeclarationConflictError`, an unknown queue is a `NotFoundError`, a
 *   feature the backend did not declare is an `UnsupportedFeatureError`.
 * - Nothing hangs: every promise settles within the backend's own timeouts.
 * - Passwords never appear in an error, a log line or `toString()`.
 */

/** The exchange types of AMQP 0-9-1; a backend declares which it routes. */
export const EXCHANGE_TYPES = ["direct", "fanout", "topic", "headers"] as const;
/** One of {@link EXCHANGE_TYPES}: how an exchange picks the queues for a routing key. */
export type ExchangeType = (typeof EXCHANGE_TYPES)[number];

/**
 * What a backend can do. The conformance suite reads this object from the
 * backend itself, runs the cases for what is declared and checks that what is
 * not declared is refused with `UnsupportedFeatureError`, never ignored.
 */
export interface Capabilities {
  /** Exchange types this backend routes. */
  readonly exchangeTypes: readonly ExchangeType[];
  /** A durable queue and its persistent messages survive a reconnect of the backend. */
  readonly persistence: boolean;
  /** One consumer sees the messages of one publisher in the order they were sent. */
  readonly ordering: boolean;
  /** `maxPriority` queues deliver higher priorities first (AMQP order: higher number, sooner). */
  readonly priority: boolean;
  /** Per-message `expiration` and the `messageTtl` queue argument. */
  readonly messageTtl: boolean;
  /** `deadLetterExchange` queue argument: rejected and expired messages are re-routed there. */
  readonly deadLetter: boolean;
  /** `maxLength` queue argument (oldest messages dropped or dead-lettered first). */
  readonly maxLength: boolean;
  /** `mandatory` sends fail with `UnroutableError` when no queue is bound for them. */
  readonly mandatory: boolean;
  /** `exclusive` queues: owned by one connection, deleted with it, refused to others. */
  readonly exclusiveQueues: boolean;
  /**
   * The largest body, in bytes, that a message carries when it is sent with the
   * `binary` codec and no user headers. Anything larger is refused before it is
   * sent (`MessageTooLargeError`). Backends that also count headers against
   * their limit subtract their own fixed overhead here and check the rest in
   * `measure`.
   */
  readonly maxMessageSize: number;
  /**
   * Deliveries expire unless kept alive (SQS visibility timeout, Redis reclaim).
   * The backend keeps each delivery's lease alive from receipt until it is
   * settled, whether it waits in the prefetch buffer or is in a callback
   * (with the kit's `LeaseKeeper`), up to the backend's maximum hold; and
   * `Delivery.extend` renews it at once, for at least the seconds asked where
   * the broker leases by time (SQS), for another lease where it does not (Redis).
   */
  readonly leases: boolean;
  /** `groupId` and `deduplicationId` per send (SQS FIFO message groups and deduplication). */
  readonly messageGroups: boolean;
  /**
   * Queue types taken besides "classic" (`queueType` queue argument). Optional,
   * so that a backend written before quorum queues refuses them instead of
   * declaring a classic queue in their place; absent means none.
   */
  readonly queueTypes?: readonly QueueType[];
  /**
   * Delayed delivery (`PublishRequest.delay`): a message sent with a delay
   * is delivered no sooner than that many milliseconds after the broker took
   * it, and a short delay is never held up behind a longer one sent before
   * it. Optional, so that a backend written before delays refuses them;
   * absent means none (core refuses a delay with `UnsupportedFeatureError`).
   */
  readonly delayedDelivery?: boolean;
}

/** Values a message header may hold: what AMQP tables, JSON and SQS attributes all carry. */
export type HeaderValue =
  | string
  | number
  | boolean
  | null
  | Date
  | Uint8Array
  | readonly HeaderValue[]
  | { readonly [key: string]: HeaderValue };

/**
 * A message's headers. Backends build received ones with `newHeaders()`
 * (no prototype), so that a header named `__proto__` or `constructor` is
 * a header like any other.
 */
export type Headers = Record<string, HeaderValue>;

/** The AMQP basic properties, by their carrot names; every backend carries all of them. */
export interface MessageProperties {
  /** The application's id for the message; carried, never generated or checked by carrot. */
  messageId?: string;
  /** The id of the message this one answers (request/reply). */
  correlationId?: string;
  /** The queue a reply should be sent to (request/reply). */
  replyTo?: string;
  /** 0-255; higher is delivered sooner on `maxPriority` queues. */
  priority?: number;
  /** Milliseconds until the message expires if not delivered. */
  expiration?: number;
  /**
   * When the message was created, as the sender says: to the millisecond on
   * memory, Redis and SQS; to the second on RabbitMQ, whose AMQP timestamp
   * counts seconds (a forward from RabbitMQ carries the second it has).
   */
  timestamp?: Date;
  /** The application's name for the kind of message ("order.created"). */
  type?: string;
  /** The sending application's name. */
  appId?: string;
  /** The sending user; RabbitMQ refuses a message whose `userId` is not the connection's user. */
  userId?: string;
  /** 1 transient, 2 persistent. */
  deliveryMode?: 1 | 2;
}

/** A message as it travels: encoded bytes plus what is needed to decode them. */
export interface RawMessage {
  /** The encoded (and maybe compressed) body, exactly as it goes to or comes from the broker. */
  body: Uint8Array;
  /** The codec's content type ("application/json"); core picks the decoder by it. */
  contentType?: string;
  /** "utf-8" for text formats, "binary" otherwise, as the codec says. */
  contentEncoding?: string;
  /** User headers plus carrot's own (`compression`); received ones are built with `newHeaders()`. */
  headers: Headers;
  /** The AMQP basic properties; a backend carries every one it is given. */
  properties: MessageProperties;
  /**
   * Set by a backend on a delivery it could not read as a carrot message
   * (an envelope or header table that another client wrote and that does
   * not decode). The backend still delivers it, with the body as it arrived
   * and empty headers and properties, so that core rejects it through the
   * consumer's one poison path and reports this error; a backend never
   * throws from its read loop for what a message holds.
   */
  unreadable?: Error;
}

/** One message to publish, as core hands it to `Backend.publish`. */
export interface PublishRequest {
  /** The exchange to publish to; "" is the default exchange, which routes to the queue named by the routing key. */
  exchange: string;
  /** The key the exchange routes by (a queue name on the default exchange). */
  routingKey: string;
  /** The encoded message, already checked against `maxMessageSize`. */
  message: RawMessage;
  /** Fail with `UnroutableError` when no queue receives the message. */
  mandatory: boolean;
  /**
   * The body was made for this request alone (encoded by a codec with
   * `freshBytes`, or compressed): no one else holds it, so a backend that
   * keeps it past `publish` (an in-process broker) need not copy it to keep
   * the sender from changing the stored message. Absent or false: it may be
   * the caller's own bytes (pre-encoded data, a forwarded message's body).
   */
  freshBody?: boolean;
  /** Messages of one group are delivered in order, one at a time (`messageGroups`). */
  groupId?: string;
  /** The broker drops a later message with the same id within its window (`messageGroups`). */
  deduplicationId?: string;
  /**
   * Milliseconds before the message may be delivered (`delayedDelivery`),
   * counted from when the broker has it; absent: at once. Core never sets
   * it together with `mandatory` (whether a delayed message will find a
   * queue is only known when it is due). The message is routed by
   * `exchange` and `routingKey` as it would be without a delay.
   */
  delay?: number;
}

/** Where a delivered message came from and how. */
export interface DeliveryInfo {
  /** The exchange it was published to ("" for the default exchange). */
  exchange: string;
  /** The routing key it was published with. */
  routingKey: string;
  /** The message was delivered before and not acked (consumer died, requeued, connection lost). */
  redelivered: boolean;
  /** The queue the message came from. */
  queue: string;
  /** The subscription's tag, or undefined for `get`. */
  consumerTag?: string;
  /** The message group it was sent in (`messageGroups` backends: SQS FIFO's `MessageGroupId`). */
  groupId?: string;
  /**
   * How many times the broker has delivered this copy of the message, this
   * delivery included (1 the first time), where the broker keeps that count
   * itself: a quorum queue's `x-delivery-count`, SQS's
   * `ApproximateReceiveCount`, Redis's pending-entries delivery counter, the
   * memory broker's own. It counts deliveries that were requeued, and those
   * held by a consumer that died. Absent where the broker keeps no count
   * (RabbitMQ classic queues): core then counts a redelivery as the second.
   */
  deliveryCount?: number;
}

/**
 * One delivered message and the means to settle it. A backend settles each
 * delivery at most once; core guards against double settles before calling.
 * Settling after the backend lost the connection that delivered the message
 * rejects with a `ConnectionLostError` saying the broker will redeliver it.
 */
export interface Delivery {
  /** The message as it arrived. */
  readonly message: RawMessage;
  /** Where it came from, and whether it was delivered before. */
  readonly info: DeliveryInfo;
  /** Done with it: the broker forgets the message. */
  ack(): Promise<void>;
  /** Requeue true: back on the queue, redelivered. False: dropped, or dead-lettered if configured. */
  reject(requeue: boolean): Promise<void>;
  /** Backends with `leases`: keep the delivery for this many more seconds. */
  extend?(seconds: number): Promise<void>;
}

/**
 * An exchange to declare. Declaring an existing exchange with the same
 * settings does nothing; with other settings it fails with
 * `DeclarationConflictError` (AMQP's equivalence rule, `assertSameExchange`).
 */
export interface ExchangeDeclaration {
  /** Unique per broker (per vhost on RabbitMQ); "" is the default exchange and cannot be declared. */
  name: string;
  /** How it routes; a backend refuses a type missing from its `exchangeTypes`. */
  type: ExchangeType;
  /** Survives a broker restart. */
  durable: boolean;
  /** Deleted once its last binding is removed. */
  autoDelete: boolean;
  /** Backend-specific arguments, passed through untouched (for AMQP, `x-*` keys). */
  arguments?: Record<string, unknown>;
}

/**
 * Kinds of queue. "classic" is every backend's own kind; "quorum" is a queue
 * replicated across the broker's nodes by Raft (RabbitMQ), which a backend
 * takes only when its capabilities list it in `queueTypes`.
 */
export const QUEUE_TYPES = ["classic", "quorum"] as const;
/** One of {@link QUEUE_TYPES}. */
export type QueueType = (typeof QUEUE_TYPES)[number];

/** Queue arguments with carrot names; backends map them to their own (`x-message-ttl`, ...). */
export interface QueueArguments {
  /** Where rejected (without requeue), expired and overflowing messages are republished (`deadLetter`). */
  deadLetterExchange?: string;
  /** The routing key they are republished with; absent: their own. */
  deadLetterRoutingKey?: string;
  /** Milliseconds a message may wait in the queue. */
  messageTtl?: number;
  /** Most messages the queue holds; the oldest is dropped, or dead-lettered, to make room (`maxLength`). */
  maxLength?: number;
  /** Enables priorities 0..maxPriority on the queue. */
  maxPriority?: number;
  /**
   * "quorum": replicated, so that confirmed messages survive the loss of a
   * minority of the broker's nodes. Durable, not exclusive, not auto-delete,
   * no `maxPriority`. Absent: the backend's own kind.
   */
  queueType?: QueueType;
  /**
   * Quorum queues: how many times one message may come back (requeued, or
   * held by a consumer that died) and be delivered again; the return after
   * that dead-letters it (to `deadLetterExchange`) or, without one, drops it.
   * With 2 it is delivered 3 times. The limit that stops a poison message
   * from being redelivered for ever.
   */
  deliveryLimit?: number;
  /** Quorum queues: how many nodes hold a replica when the queue is created (default: all). */
  initialGroupSize?: number;
  /** Backend-specific arguments, passed through untouched (for AMQP, `x-*` keys). */
  [raw: `x-${string}`]: unknown;
}

/**
 * A queue to declare. As with exchanges, redeclaring with the same settings
 * does nothing and with others fails with `DeclarationConflictError`.
 */
export interface QueueDeclaration {
  /** Unique per broker (per vhost on RabbitMQ); never empty. */
  name: string;
  /** The queue, and its persistent messages, survive a broker restart (`persistence`). */
  durable: boolean;
  /** Owned by this connection: refused to others, deleted when it closes (`exclusiveQueues`). */
  exclusive: boolean;
  /** Deleted once its last consumer unsubscribes. */
  autoDelete: boolean;
  /** Limits, dead-lettering and queue type; `{}` for none. */
  arguments: QueueArguments;
}

/** A route from an exchange to a queue; binding twice is the same as once. */
export interface BindingDeclaration {
  /** The queue that receives the messages. */
  queue: string;
  /** The exchange they are published to. */
  exchange: string;
  /** The binding key: exact for direct, a pattern for topic, ignored by fanout and headers. */
  routingKey: string;
  /** For headers exchanges: `x-match` ("all" or "any") and the header values to match. */
  arguments?: Headers;
}

/** How `Backend.consume` delivers. */
export interface ConsumeOptions {
  /** Unacked deliveries allowed in flight on this subscription; 0 means no limit. */
  prefetch: number;
  /** Deliveries count as acked when sent; they cannot be settled. */
  noAck: boolean;
  /** No other consumer may subscribe to the queue while this one is. */
  exclusive: boolean;
  /** Names the subscription in `DeliveryInfo` and the broker's tools: the consumer's own, else a random `carrot-<uuid>`. */
  consumerTag: string;
}

/**
 * Starts the name of every reply queue carrot makes (`carrot-reply-<uuid>`):
 * a backend that sweeps the reply queues of dead connections finds them by it.
 */
export const REPLY_QUEUE_PREFIX = "carrot-reply-";

/**
 * What `Backend.publish` returns when the broker has the message before
 * `publish` returns (an in-process broker): core then frees the send's slot
 * at once and sets it no deadline, which otherwise costs every send a
 * promise of its own and a place in the deadline's list. Not frozen: async
 * hooks (OpenTelemetry's context tracking) tag every promise they see.
 */
export const PUBLISHED: Promise<void> = Promise.resolve();

/** What a reply destination calls (see `Backend.openReplies`). */
export interface ReplyHandlers {
  /**
   * A reply arrived. It is never settled: replies are consumed as noAck (a
   * reply that no request awaits any more, late or unknown, is dropped).
   */
  reply(delivery: Delivery): void;
  /**
   * The destination is gone: no reply sent to it will arrive any more (the
   * channel consuming it closed, its queue was deleted or expired). Core
   * fails the requests still waiting with `reason` and opens a new
   * destination for the next request.
   */
  lost(reason: Error): void;
}

/** Where one connection receives the replies to its requests (see `Backend.openReplies`). */
export interface ReplyDestination {
  /**
   * What each request carries as its `replyTo`, and where a reply is sent
   * (by the default exchange, with it as the routing key); on RabbitMQ the
   * broker rewrites it on the way (direct reply-to).
   */
  readonly replyTo: string;
  /** Stops receiving and removes what the destination holds on the broker (its queue). */
  close(): Promise<void>;
}

/** A running `consume`, which `cancel()` ends. */
export interface Subscription {
  /** The tag it was started with (`ConsumeOptions.consumerTag`). */
  readonly consumerTag: string;
  /**
   * Stop deliveries. Resolves once the backend will deliver nothing more on
   * this subscription; deliveries already handed out stay settleable.
   */
  cancel(): Promise<void>;
}

/** Lifecycle events a backend reports to the application (logging, alerting). */
export interface BackendEvents {
  /** The connection is up: once `connect()` succeeds, and again on each reconnect (before `reconnect`). */
  connect: {
    /** host:port (or the backend's own name for its broker), never with a password. */
    host: string;
  };
  /**
   * The connection is down, however it went: lost (`error` says why), or
   * closed by `close()` (no `error`; emitted before `close()` resolves), so
   * that "up" and "down" can be tracked from the events alone. Never twice
   * without a `reconnect` between: `close()` of a connection down since a
   * loss emits none.
   */
  disconnect: {
    /** The broker the connection was to, never with a password. */
    host: string;
    /** Why it was lost; absent when `close()` ended it. */
    error?: Error;
  };
  /** A lost connection is up again; subscriptions resume on it. */
  reconnect: {
    /** The broker it reconnected to (with several URLs, maybe another than before). */
    host: string;
    /** Which try succeeded, from 1. */
    attempt: number;
  };
  /** An error the backend already handled, reported for logging: with no listener it is dropped, never thrown. */
  error: {
    /** What failed, as a carrot error where the backend can say. */
    error: Error;
  };
}

/** A listener for the event `E`, given its payload. */
export type BackendEventListener<E extends keyof BackendEvents> = (event: BackendEvents[E]) => void;

/**
 * One connection to one broker: declarations, publish, get and consume.
 * Core calls it only after `connect()` resolved and never after `close()`.
 */
export interface Backend {
  /** Short name used in errors and logs ("amqplib", "redis", ...). */
  readonly name: string;
  /**
   * What this backend can do. Core reads it only once `connect()` has
   * resolved, and again at each use (each declaration, each send), never
   * caching it: a backend whose limits depend on the server (a payload limit
   * the server announces when it connects) settles them in `connect()`, or
   * on a reconnect, by exposing this as a getter.
   */
  readonly capabilities: Capabilities;

  /** Connects (or joins) the broker; rejects with a typed error within the connect timeout. */
  connect(): Promise<void>;
  /** Releases everything: subscriptions end, unacked deliveries go back to the broker. */
  close(): Promise<void>;

  /** Creates the exchange, or checks that the existing one is the same (else `DeclarationConflictError`). */
  declareExchange(exchange: ExchangeDeclaration): Promise<void>;
  /** Creates the queue, or checks that the existing one is the same (else `DeclarationConflictError`). */
  declareQueue(queue: QueueDeclaration): Promise<void>;
  /** Routes the exchange's matching messages to the queue; binding twice is binding once. */
  bindQueue(binding: BindingDeclaration): Promise<void>;
  /** Stops the routing `bindQueue` set up; a binding that was never made is no error. */
  unbindQueue(binding: BindingDeclaration): Promise<void>;
  /** Deletes the exchange and its bindings; deleting one that does not exist succeeds. */
  deleteExchange(name: string): Promise<void>;
  /** Deletes the queue, its messages and bindings; its consumers are cancelled by the broker. */
  deleteQueue(name: string): Promise<void>;
  /** Removes every ready message; resolves to how many. */
  purgeQueue(name: string): Promise<number>;
  /**
   * Resolves if the queue exists and this connection may use it; rejects
   * with `NotFoundError` if it does not (`ResourceLockedError` if another
   * connection holds it exclusively). Creates and changes nothing, and
   * compares no settings: what a `passive` declaration asks (AMQP's passive
   * `queue.declare`). Optional, so that a backend written before it refuses
   * `passive`: absent, core refuses it with `UnsupportedFeatureError`.
   */
  checkQueue?(name: string): Promise<void>;
  /**
   * Resolves if the exchange exists; rejects with `NotFoundError` if it
   * does not. Creates and changes nothing, and compares no settings (AMQP's
   * passive `exchange.declare`). Core never asks about the default exchange
   * (""). Optional, as `checkQueue` is: the two come together.
   */
  checkExchange?(name: string): Promise<void>;

  /**
   * Resolves once the broker has the message; rejects with a publish error
   * otherwise. `PUBLISHED` when the broker had it before `publish` returned.
   */
  publish(request: PublishRequest): Promise<void>;
  /**
   * The queue where a consumer's failure policy keeps the messages that
   * failed every attempt, for a queue with no dead-letter exchange. Absent:
   * `<queue>.failed`. A backend whose queue names cannot hold that (SQS: no
   * dots, and a `.fifo` suffix) returns its own.
   */
  failedQueueName?(queue: string): string;
  /**
   * The size this backend counts against `maxMessageSize`, when it is not the
   * body length alone (e.g. SQS counts attributes). Core checks it before publishing.
   */
  measure?(message: RawMessage): number;

  /** One message, or null when the queue is empty. */
  get(queue: string, options: { noAck: boolean }): Promise<Delivery | null>;
  /**
   * Request-reply: opens the destination where the replies to this
   * connection's requests arrive. Core opens one per connection, at its
   * first `publisher.request()`, sends every request with its `replyTo`,
   * matches replies by correlation id, and closes it before the connection
   * closes. The destination of a connection that dies without closing it
   * must not outlive it by more than a bound the backend documents (an
   * exclusive queue goes with its connection; RabbitMQ's direct reply-to is
   * no queue at all; a key expiry, a sweep by the next requester).
   * Optional: without it, core makes a reply queue of its own where the
   * backend has `exclusiveQueues` (an exclusive queue named
   * {@link REPLY_QUEUE_PREFIX}<uuid>, consumed with noAck), and refuses
   * requests with `UnsupportedFeatureError` where it has not.
   */
  openReplies?(handlers: ReplyHandlers): Promise<ReplyDestination>;

  /**
   * Starts delivering to `onDelivery` until cancelled or closed. If the
   * broker itself ends the subscription for good (its queue was deleted),
   * the backend calls `onBrokerCancel` with the reason (a `NotFoundError`),
   * and nothing more is delivered. A lost connection is not that: the
   * backend resubscribes when it reconnects.
   */
  consume(
    queue: string,
    options: ConsumeOptions,
    onDelivery: (delivery: Delivery) => void,
    onBrokerCancel?: (reason: Error) => void,
  ): Promise<Subscription>;

  /** Adds a listener for a lifecycle event (see {@link BackendEvents}). */
  on<E extends keyof BackendEvents>(event: E, listener: BackendEventListener<E>): void;
  /** Removes a listener added with `on`. */
  off<E extends keyof BackendEvents>(event: E, listener: BackendEventListener<E>): void;
}

/** Redact-safe, fully resolved connection settings handed to a backend factory. */
export interface BackendOptions {
  /** The URL as given (may hold a password: never print it; use `redactUrl`). */
  url?: string;
  /** Other URLs to fail over to, tried in turn after `url`. */
  alternates: string[];
  /** The host to connect to, when given apart from a URL. */
  hostname?: string;
  /** The TCP port; absent: the backend's default for its scheme. */
  port?: number;
  /** The user name to log in with. */
  userid?: string;
  /** The password to log in with: never print it, never put it in an error. */
  password?: string;
  /** The virtual host, where the broker has them (RabbitMQ); others ignore it. */
  vhost?: string;
  /** Milliseconds to establish a connection before failing with `ConnectTimeoutError`. */
  connectTimeout: number;
  /** Seconds between heartbeats, where the broker has them; 0 disables. */
  heartbeat?: number;
  /** TLS: true for defaults, or Node `tls.connect` options. */
  tls?: boolean | Record<string, unknown>;
  /** How to retry a lost connection; `false`: do not, report the loss and stay down. */
  reconnect: ReconnectPolicy | false;
  /** A name the broker shows for this connection. */
  connectionName?: string;
  /** Backend-specific options, passed through. */
  transportOptions: Record<string, unknown>;
}

/** Bounded exponential backoff with full jitter. */
export interface ReconnectPolicy {
  /** Milliseconds before the first retry. */
  initialDelay: number;
  /** Upper bound of any one delay. */
  maxDelay: number;
  /** Growth per attempt. */
  factor: number;
  /** Give up after this many attempts in a row (Infinity: never). */
  maxAttempts: number;
}

/** What a backend package exports (as `default` and by name) and `registerBackend` takes. */
export interface BackendFactory {
  /** The backend's name, as its instances report it (`Backend.name`). */
  readonly name: string;
  /** URL schemes it serves, without the colon ("amqp", "amqps"). */
  readonly schemes: readonly string[];
  /** A new backend for these settings, not yet connected: `connect()` does the I/O. */
  create(options: BackendOptions): Backend;
}
