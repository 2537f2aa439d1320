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
   * Deliveries expire unless kept alive (SQS visibility timeout, Redis reclaim):
   * `Delivery.extend` works and core keeps leases alive while a message is held.
   */
  readonly leases: boolean;
  /** `groupId` and `deduplicationId` per send (SQS FIFO message groups and deduplication). */
  readonly messageGroups: boolean;
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
  messageId?: string;
  correlationId?: string;
  replyTo?: string;
  /** 0-255; higher is delivered sooner on `maxPriority` queues. */
  priority?: number;
  /** Milliseconds until the message expires if not delivered. */
  expiration?: number;
  timestamp?: Date;
  type?: string;
  appId?: string;
  userId?: string;
  /** 1 transient, 2 persistent. */
  deliveryMode?: 1 | 2;
}

/** A message as it travels: encoded bytes plus what is needed to decode them. */
export interface RawMessage {
  body: Uint8Array;
  contentType?: string;
  contentEncoding?: string;
  headers: Headers;
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

export interface PublishRequest {
  exchange: string;
  routingKey: string;
  message: RawMessage;
  /** Fail with `UnroutableError` when no queue receives the message. */
  mandatory: boolean;
  /** Messages of one group are delivered in order, one at a time (`messageGroups`). */
  groupId?: string;
  /** The broker drops a later message with the same id within its window (`messageGroups`). */
  deduplicationId?: string;
}

export interface DeliveryInfo {
  exchange: string;
  routingKey: string;
  /** The message was delivered before and not acked (consumer died, requeued, connection lost). */
  redelivered: boolean;
  /** The queue the message came from. */
  queue: string;
  /** The subscription's tag, or undefined for `get`. */
  consumerTag?: string;
}

/**
 * One delivered message and the means to settle it. A backend settles each
 * delivery at most once; core guards against double settles before calling.
 * Settling after the backend lost the connection that delivered the message
 * rejects with a `ConnectionLostError` saying the broker will redeliver it.
 */
export interface Delivery {
  readonly message: RawMessage;
  readonly info: DeliveryInfo;
  ack(): Promise<void>;
  /** Requeue true: back on the queue, redelivered. False: dropped, or dead-lettered if configured. */
  reject(requeue: boolean): Promise<void>;
  /** Backends with `leases`: keep the delivery for this many more seconds. */
  extend?(seconds: number): Promise<void>;
}

export interface ExchangeDeclaration {
  name: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
  arguments?: Record<string, unknown>;
}

/** Queue arguments with carrot names; backends map them to their own (`x-message-ttl`, ...). */
export interface QueueArguments {
  deadLetterExchange?: string;
  deadLetterRoutingKey?: string;
  /** Milliseconds a message may wait in the queue. */
  messageTtl?: number;
  maxLength?: number;
  /** Enables priorities 0..maxPriority on the queue. */
  maxPriority?: number;
  /** Backend-specific arguments, passed through untouched (for AMQP, `x-*` keys). */
  [raw: `x-${string}`]: unknown;
}

export interface QueueDeclaration {
  name: string;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: QueueArguments;
}

export interface BindingDeclaration {
  queue: string;
  exchange: string;
  /** The binding key: exact for direct, a pattern for topic, ignored by fanout and headers. */
  routingKey: string;
  /** For headers exchanges: `x-match` ("all" or "any") and the header values to match. */
  arguments?: Headers;
}

export interface ConsumeOptions {
  /** Unacked deliveries allowed in flight on this subscription; 0 means no limit. */
  prefetch: number;
  /** Deliveries count as acked when sent; they cannot be settled. */
  noAck: boolean;
  /** No other consumer may subscribe to the queue while this one is. */
  exclusive: boolean;
  consumerTag: string;
}

export interface Subscription {
  readonly consumerTag: string;
  /**
   * Stop deliveries. Resolves once the backend will deliver nothing more on
   * this subscription; deliveries already handed out stay settleable.
   */
  cancel(): Promise<void>;
}

/** Lifecycle events a backend reports to the application (logging, alerting). */
export interface BackendEvents {
  connect: { host: string };
  /**
   * The connection is down, however it went: lost (`error` says why), or
   * closed by `close()` (no `error`; emitted before `close()` resolves), so
   * that "up" and "down" can be tracked from the events alone. Never twice
   * without a `reconnect` between: `close()` of a connection down since a
   * loss emits none.
   */
  disconnect: { host: string; error?: Error };
  reconnect: { host: string; attempt: number };
  error: { error: Error };
}

export type BackendEventListener<E extends keyof BackendEvents> = (event: BackendEvents[E]) => void;

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

  declareExchange(exchange: ExchangeDeclaration): Promise<void>;
  declareQueue(queue: QueueDeclaration): Promise<void>;
  bindQueue(binding: BindingDeclaration): Promise<void>;
  unbindQueue(binding: BindingDeclaration): Promise<void>;
  deleteExchange(name: string): Promise<void>;
  deleteQueue(name: string): Promise<void>;
  /** Removes every ready message; resolves to how many. */
  purgeQueue(name: string): Promise<number>;

  /** Resolves once the broker has the message; rejects with a publish error otherwise. */
  publish(request: PublishRequest): Promise<void>;
  /**
   * The size this backend counts against `maxMessageSize`, when it is not the
   * body length alone (e.g. SQS counts attributes). Core checks it before publishing.
   */
  measure?(message: RawMessage): number;

  /** One message, or null when the queue is empty. */
  get(queue: string, options: { noAck: boolean }): Promise<Delivery | null>;
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

  on<E extends keyof BackendEvents>(event: E, listener: BackendEventListener<E>): void;
  off<E extends keyof BackendEvents>(event: E, listener: BackendEventListener<E>): void;
}

/** Redact-safe, fully resolved connection settings handed to a backend factory. */
export interface BackendOptions {
  /** The URL as given (may hold a password: never print it; use `redactUrl`). */
  url?: string;
  /** Other URLs to fail over to, tried in turn after `url`. */
  alternates: string[];
  hostname?: string;
  port?: number;
  userid?: string;
  password?: string;
  vhost?: string;
  /** Milliseconds to establish a connection before failing with `ConnectTimeoutError`. */
  connectTimeout: number;
  /** Seconds between heartbeats, where the broker has them; 0 disables. */
  heartbeat?: number;
  /** TLS: true for defaults, or Node `tls.connect` options. */
  tls?: boolean | Record<string, unknown>;
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
  readonly name: string;
  /** URL schemes it serves, without the colon ("amqp", "amqps"). */
  readonly schemes: readonly string[];
  create(options: BackendOptions): Backend;
}
