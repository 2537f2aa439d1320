import { abortError, unlessAborted } from "./abort-error.js";
import { assertPublishable } from "./capability-checks.js";
import { codecByName } from "./codecs/codec-registry.js";
import {
  COMPRESSION_HEADER,
  COMPRESSIONS,
  type Compression,
  compress,
} from "./codecs/compression.js";
import type { Carried, CarriedBy } from "./codecs/payload-types.js";
import type { Connection } from "./connection.js";
import {
  type Backend,
  type ExchangeType,
  type Headers,
  type MessageProperties,
  PUBLISHED,
  type PublishRequest,
  type RawMessage,
} from "./contract.js";
import { ClosedError, EncodeError, InvalidOptionsError, PublishTimeoutError } from "./errors.js";
import { InFlightLimit } from "./in-flight-limit.js";
import type { Message } from "./message.js";
import { checkNumber, DELAY_RANGE, MAX_TIMER_MS, type NumberRange } from "./number-options.js";
import {
  checkOptionNames,
  classOptions,
  PUBLISHER_OPTION_NAMES,
  SEND_OPTION_NAMES,
} from "./option-names.js";
import { type RequestOptions, sendRequest } from "./request-reply.js";
import { type Schema, validate } from "./schema.js";
import { SendDeadline } from "./send-deadline.js";
import { SendWait } from "./send-wait.js";
import type { TracedOperation } from "./telemetry/instrumentation.js";
import { checkDeclareMode, checkExchangeType } from "./topology-input.js";

/**
 * Where a Publisher sends and how. Every option has a default; a misspelt
 * name fails with `InvalidOptionsError` naming the closest valid one.
 * Subclasses may set them as `static defaults`. `T` is the payload type,
 * `S` the serializer's name (see {@link Publisher}).
 */
export interface PublisherOptions<T = unknown, S extends string = "json"> {
  /** The exchange to publish to; "" is the default exchange, which routes to the queue named by the key. */
  exchange?: string;
  /** The exchange's type when declared: "direct" (the default), "topic", "fanout" or "headers". */
  exchangeType?: ExchangeType;
  /** The routing key of every send that does not give its own; default "". */
  routingKey?: string;
  /** The exchange survives a broker restart; default true. */
  durable?: boolean;
  /** The exchange is deleted when its last binding goes; default false. Consumers of it must agree. */
  autoDelete?: boolean;
  /** 2 (persistent, the default) or 1 (transient). */
  deliveryMode?: 1 | 2 | "persistent" | "transient";
  /**
   * Codec name; "json" by default. Given here without type arguments, it
   * also decides which payload types compile (`S`); with `Publisher<T>`
   * written out, name it there too (`Publisher<T, "msgpack">`), or `T` is
   * judged by json.
   */
  serializer?: S | (string & {});
  /** Compresses every body ("gzip" or "brotli", kombu's format); default none. */
  compression?: Compression;
  /**
   * Validates every payload before it is sent. The payload itself is then
   * encoded, not the schema's output: its type must still be one the
   * serializer carries.
   */
  schema?: Schema<T>;
  /**
   * Fail sends that no queue receives with UnroutableError, instead of
   * resolving while the broker drops them (an exchange with no queue bound
   * for the routing key). Needs the `mandatory` capability. Default false.
   */
  mandatory?: boolean;
  /**
   * Create nothing, only check: `declare()` and the first send assert that
   * the exchange exists, and fail with `NotFoundError` if not, instead of
   * creating a misspelt exchange that no queue is bound to. Its settings are
   * not compared with the existing one's. Needs a backend that can check
   * without creating (`UnsupportedFeatureError` otherwise). Default false.
   */
  passive?: boolean;
  /**
   * false: declare nothing; the exchange is the infrastructure's. A send to
   * an exchange that does not exist then fails with the broker's
   * `NotFoundError`. Default true.
   */
  declare?: boolean;
  /** Headers added to every message. */
  headers?: Headers;
  /**
   * Milliseconds a send may wait for a slot (see `maxInFlight`) and then for
   * the broker, together, before failing with PublishTimeoutError; default 30 000.
   */
  sendTimeout?: number;
  /** Sends in flight at once before `send` waits for room (backpressure); default 1000. */
  maxInFlight?: number;
}

/**
 * One send's options: each overrides the Publisher's option of the same
 * name, and the message properties (`messageId`, `correlationId`, `replyTo`,
 * `expiration`, `priority`...) travel with the message.
 */
export interface SendOptions<S extends string = string>
  extends Omit<MessageProperties, "deliveryMode"> {
  /** This message's routing key; default the Publisher's `routingKey`. */
  routingKey?: string;
  /** This message's codec name; default the Publisher's `serializer`. The data must be of a type it carries. */
  serializer?: S;
  /** This message's compression; default the Publisher's `compression`. */
  compression?: Compression;
  /** With a content type, the data is pre-encoded: a Uint8Array or a string, sent as it is. */
  contentType?: string;
  /** The encoding of pre-encoded data (with `contentType`); default "utf-8" for a string, "binary" for bytes. */
  contentEncoding?: string;
  /** Headers of this message, added to (and overriding) the Publisher's `headers`. */
  headers?: Headers;
  /** This message's `mandatory`; default the Publisher's. */
  mandatory?: boolean;
  /** This message's delivery mode; default the Publisher's `deliveryMode`. */
  deliveryMode?: PublisherOptions["deliveryMode"];
  /**
   * Messages of one group are delivered in order, one at a time, on backends
   * that have groups (SQS FIFO queues). Needs the `messageGroups` capability.
   */
  groupId?: string;
  /**
   * The broker drops a later message with the same id within its
   * deduplication window. Needs the `messageGroups` capability.
   */
  deduplicationId?: string;
  /**
   * Milliseconds before the message may be delivered: a whole number, 0 for
   * none. The broker holds it, then routes it as it would have at once (by
   * the bindings in force then); a short delay is never held up behind a
   * longer one sent before it. Needs the `delayedDelivery` capability
   * (`UnsupportedFeatureError` without it). It cannot be `mandatory`
   * (`InvalidOptionsError`): whether a queue takes it is only known when it
   * is due; nor carry an `expiration`: RabbitMQ holds delayed messages by
   * dead-lettering them, which removes it, so a queue's `messageTtl` is the
   * one way an expiry means the same on every backend.
   */
  delay?: number;
  /**
   * Aborts the send while it still waits: for a slot, for the connection, or
   * for its exchange to be declared. It then rejects with the signal's reason
   * (an "AbortError" DOMException unless the reason is an Error), and nothing
   * was sent. Once handed to the backend a send is not abortable: the broker
   * may already have the message.
   */
  signal?: AbortSignal;
}

/** What `sendRaw` takes beside the message. */
interface RawSendOptions {
  routingKey?: string;
  signal?: AbortSignal;
}

/** A send given no options: one frozen object shared by all, not a new `{}` per message. */
const NO_SEND_OPTIONS: SendOptions = Object.freeze({});
const DEFAULT_SEND_TIMEOUT = 30_000;
const DEFAULT_MAX_IN_FLIGHT = 1000;
const SEND_TIMEOUT_RANGE: NumberRange = { min: 1, max: MAX_TIMER_MS, unit: "milliseconds" };
const MAX_IN_FLIGHT_RANGE: NumberRange = { min: 1 };
const PRIORITY_RANGE: NumberRange = { min: 0, max: 255 };
const EXPIRATION_RANGE: NumberRange = { min: 0, unit: "milliseconds" };
const DELIVERY_MODES: readonly unknown[] = [1, 2, "persistent", "transient"];

/**
 * Sends messages to one exchange. Subclasses set `static defaults` (carrot's
 * class attributes).
 *
 * `T` is the payload type and `S` the serializer: `T` must be a type `S`
 * carries, so that the consumer receives what the type says. With json (the
 * default), a Date (sent as a string), a Map or Set (sent as `{}`), a
 * bigint, undefined as a message, bytes, or a class instance with methods
 * is a compile error naming why; msgpack carries Dates, bigints and bytes;
 * text takes strings and binary Uint8Arrays; a codec of your own declares
 * its type in {@link CodecPayloads}, or is not checked. With `T` left
 * `unknown`, no type makes a claim, and each `send` only refuses data its
 * codec cannot encode at all (`send(10n)` does not compile with json).
 */
export class Publisher<T extends CarriedBy<T, S> = unknown, S extends string = "json"> {
  /** Options a subclass sets for all its instances (carrot's class attributes); the constructor's win. */
  static defaults: PublisherOptions = {};

  /** The connection this publisher sends on. */
  readonly connection: Connection;
  /** The options in force: `static defaults` merged with the constructor's. */
  readonly options: Readonly<PublisherOptions<T, S>>;
  readonly #limit: InFlightLimit;
  /** Frees a send's slot; the deadline calls it once the send has settled or timed out. */
  readonly #releaseSlot = () => this.#limit.release();
  readonly #deadline: SendDeadline;
  /** Why a send that waited for a slot all its time fails: it never left. */
  readonly #slotTimeout = () =>
    new PublishTimeoutError(
      `no slot to send in within ${this.#deadline.ms} ms: ${this.#limit.limit} sends (maxInFlight) were waiting for the broker all that time. The message never left, nothing was sent, so it is safe to retry`,
    );
  #declared?: Promise<void>;
  #exchangeDeclared = false;
  #closed = false;

  constructor(connection: Connection, options: PublisherOptions<T, S> = {}) {
    this.connection = connection;
    this.options = classOptions(new.target, options, PUBLISHER_OPTION_NAMES, "Publisher");
    const { exchangeType, deliveryMode, sendTimeout, maxInFlight } = this.options;
    if (exchangeType !== undefined) checkExchangeType(exchangeType);
    checkDeclareMode(this.options);
    checkDeliveryMode(deliveryMode);
    this.#limit = new InFlightLimit(
      checkNumber("maxInFlight", maxInFlight, MAX_IN_FLIGHT_RANGE) ?? DEFAULT_MAX_IN_FLIGHT,
    );
    const timeout =
      checkNumber("sendTimeout", sendTimeout, SEND_TIMEOUT_RANGE) ?? DEFAULT_SEND_TIMEOUT;
    this.#deadline = new SendDeadline(
      timeout,
      () =>
        new PublishTimeoutError(
          `the broker did not confirm the message within ${timeout} ms; it may or may not have it, so a retry may duplicate it`,
        ),
    );
  }

  /** The exchange's name, from `options.exchange` ("" is the default exchange). */
  get exchange(): string {
    return this.options.exchange ?? "";
  }

  /**
   * Declares the exchange (idempotent; done before the first send). With
   * `passive`, checks that it exists instead; with `declare: false`, does nothing.
   */
  declare(): Promise<void> {
    this.#declared ??= (async () => {
      if (this.exchange === "" || this.options.declare === false) return;
      await this.connection.declareExchange({
        name: this.exchange,
        type: this.options.exchangeType ?? "direct",
        durable: this.options.durable ?? true,
        autoDelete: this.options.autoDelete ?? false,
        passive: this.options.passive ?? false,
      });
    })().catch((error: unknown) => {
      this.#declared = undefined; // let a later send try again
      throw error;
    });
    return this.#declared;
  }

  /**
   * Sends one message already encoded: a string or bytes, as they are, with
   * their `contentType` (whatever the Publisher's payload type). Resolves and
   * rejects as the other form does. With `T` unknown, any options: a string
   * or bytes is also what text and binary encode.
   */
  send(
    data: string | Uint8Array,
    options: [unknown] extends [T] ? SendOptions : SendOptions & { contentType: string },
  ): Promise<void>;
  /**
   * Sends one message, encoded by the Publisher's serializer or this send's
   * own: `data` must be a type it carries (see {@link Publisher}); with `T`
   * unknown, one it can encode at all (`send(10n)` does not compile with
   * json, a Date does: no type claims it arrives as a Date). Resolves
   * once the broker has it; rejects, within `sendTimeout`, with the reason
   * it may not: PublishNackedError, UnroutableError, PublishTimeoutError,
   * PublishOutcomeUnknownError, MessageTooLargeError, ... Never reports a
   * message as sent when it was not. `options.signal` aborts it while it
   * waits, until it is handed to the backend.
   */
  send<D extends T, Serializer extends string = S>(
    data: [unknown] extends [T]
      ? ([D] extends [Carried<D, Serializer, "message", "encodable">] ? false : true) extends true
        ? Carried<D, Serializer, "message", "encodable">
        : D
      : T & CarriedBy<T, Serializer>,
    options?: SendOptions<Serializer>,
  ): Promise<void>;
  send(data: unknown, options: SendOptions = NO_SEND_OPTIONS): Promise<void> {
    const traced = this.connection.telemetry?.startSend(
      this.exchange,
      routingKeyOf(options) ?? this.options.routingKey ?? "",
    );
    return traced === undefined
      ? this.#send(data, options)
      : traced.track(traced.run(() => this.#send(data, options, traced)));
  }

  /** `send`, with its span (`traced`) when telemetry records. */
  #send(data: unknown, options: SendOptions, traced?: TracedOperation): Promise<void> {
    const signal = (options as SendOptions | null)?.signal; // a null options is refused below
    try {
      if (this.#closed) throw new ClosedError("this publisher is closed");
      checkOptionNames(options, SEND_OPTION_NAMES, "for send()");
      if (signal !== undefined) {
        if (!(signal instanceof AbortSignal))
          throw new InvalidOptionsError("the signal of send() must be an AbortSignal");
        if (signal.aborted) throw abortError(signal);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const validated = this.options.schema && { data };
    return traced === undefined
      ? this.#dispatch(this.#request, data, options, signal, validated)
      : this.#dispatch(
          (data, options) => traced.inject(this.#request(data, options)),
          data,
          options,
          signal,
          validated,
        );
  }

  /**
   * Publishes the request `make(a, b)` makes, at once when connected and
   * declared with a slot free (no await, no closure, no promise but the one
   * it returns), else once it has waited (see #sendWhenReady). `make` is
   * called on this Publisher.
   */
  #dispatch<A, B>(
    make: (a: A, b: B) => PublishRequest,
    a: A,
    b: B,
    signal: AbortSignal | undefined,
    validated?: { data: unknown },
  ): Promise<void> {
    const slotHeld = this.#limit.tryAcquire();
    if (!slotHeld || validated || !this.#ready())
      return this.#sendWhenReady(slotHeld, () => make.call(this, a, b), signal, validated);
    try {
      return this.#publish(this.connection.backend, make.call(this, a, b));
    } catch (error) {
      this.#limit.release();
      return Promise.reject(error);
    }
  }

  /**
   * Sends a message that is already a message: its body, content type,
   * encoding, headers and properties go as they are (the Publisher's
   * `headers` beneath its own), with no codec, compression or schema. What
   * `forward()` sends; it waits, times out and settles as `send` does. @internal
   */
  sendRaw(message: RawMessage, options: RawSendOptions = {}): Promise<void> {
    const traced = this.connection.telemetry?.startSend(
      this.exchange,
      options.routingKey ?? this.options.routingKey ?? "",
    );
    return traced === undefined
      ? this.#sendRaw(message, options)
      : traced.track(traced.run(() => this.#sendRaw(message, options, traced)));
  }

  /**
   * `sendRaw`, with its span (`traced`) when telemetry records: the trace
   * context it injects replaces the one the message came with, so that a
   * forwarded message's consumer continues the forward's trace.
   */
  #sendRaw(message: RawMessage, options: RawSendOptions, traced?: TracedOperation): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError("this publisher is closed"));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return traced === undefined
      ? this.#dispatch(this.#rawRequest, message, options, signal)
      : this.#dispatch(
          (message, options) => traced.inject(this.#rawRequest(message, options)),
          message,
          options,
          signal,
        );
  }

  /** What `sendRaw` publishes: the message as it is, under the Publisher's headers. */
  #rawRequest(message: RawMessage, options: RawSendOptions): PublishRequest {
    return {
      exchange: this.exchange,
      routingKey: options.routingKey ?? this.options.routingKey ?? "",
      message: { ...message, headers: { ...this.options.headers, ...message.headers } },
      mandatory: this.options.mandatory ?? false,
    };
  }

  /**
   * A send that first waits for a slot, validates its data (`validated`,
   * when the Publisher has a schema), or connects and declares. Its signal
   * stops it at any of these waits, up to the handover.
   */
  async #sendWhenReady(
    slotHeld: boolean,
    build: () => PublishRequest,
    signal: AbortSignal | undefined,
    validated?: { data: unknown },
  ): Promise<void> {
    const waited = slotHeld
      ? 0
      : await new SendWait(this.#limit, this.#deadline, this.#slotTimeout, signal).granted;
    try {
      if (this.options.schema && validated)
        await validate(this.options.schema, validated.data, "the message to send");
      const request = build();
      const backend = this.#ready()
        ? this.connection.backend
        : await unlessAborted(this.#prepare(), signal);
      if (signal?.aborted) throw abortError(signal);
      return this.#publish(backend, request, waited); // not awaited here: the deadline releases the slot
    } catch (error) {
      this.#limit.release();
      throw error;
    }
  }

  /**
   * Publishes with a slot held; the slot is free again once the send has
   * settled or timed out. What it refuses before sending (a feature the
   * backend lacks, a message too large) it throws: the caller frees the slot.
   * `waited` is what the send already spent of its deadline.
   */
  #publish(backend: Backend, request: PublishRequest, waited = 0): Promise<void> {
    assertPublishable(backend, request);
    const outcome = backend.publish(request);
    if (outcome === PUBLISHED) {
      this.#releaseSlot();
      return outcome;
    }
    return this.#deadline.watch(outcome, this.#releaseSlot, waited);
  }

  #ready(): boolean {
    return this.#exchangeDeclared && this.connection.connected;
  }

  async #prepare(): Promise<Backend> {
    const backend = await this.connection.ready();
    await this.declare();
    this.#exchangeDeclared = true;
    return backend;
  }

  #request(data: unknown, options: SendOptions): PublishRequest {
    const o = this.options;
    const { body, contentType, contentEncoding, freshBytes } = encode(
      data,
      options,
      options.serializer ?? o.serializer ?? "json",
    );
    const headers: Headers = { ...o.headers, ...options.headers };
    const compression = options.compression ?? o.compression;
    const message: RawMessage = {
      body: compression ? compress(body, compression) : body,
      contentType,
      contentEncoding,
      headers,
      properties: properties(options, options.deliveryMode ?? o.deliveryMode),
    };
    if (compression) headers[COMPRESSION_HEADER] = COMPRESSIONS[compression];
    const request: PublishRequest = {
      exchange: this.exchange,
      routingKey: options.routingKey ?? o.routingKey ?? "",
      message,
      mandatory: options.mandatory ?? o.mandatory ?? false,
      // Compressed bytes are new as well; pre-encoded data is the caller's own.
      // Written either way (undefined when not), so that every request has one shape.
      freshBody: freshBytes || compression ? true : undefined,
    };
    if (options.groupId !== undefined || options.deduplicationId !== undefined)
      Object.assign(request, messageIds(options));
    if (options.delay !== undefined) delayed(request, options.delay);
    return request;
  }

  /**
   * Sends `data` as a request and resolves to the reply `Message`, matched
   * by correlation id on a reply queue this connection owns (see
   * `message.reply()`). Rejects with `RequestTimeoutError` when no reply
   * comes within `timeout`, and as `send` does when the request is not sent.
   */
  request<R = unknown>(data: T, options: RequestOptions<S> = {}): Promise<Message<R>> {
    return sendRequest<R>(this as unknown as Publisher<never, string>, data, options);
  }

  /** Waits for sends in flight, then refuses new ones. The connection stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#limit.idle();
  }

  /** `await using publisher = ...`: `close()` at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A send's own routing key, read before its options are checked: anything but a string is none. */
function routingKeyOf(options: SendOptions | null): string | undefined {
  const routingKey = options?.routingKey;
  return typeof routingKey === "string" ? routingKey : undefined;
}

/** A send's body, how it reads, and whether it is new bytes (see `Codec.freshBytes`). */
interface Encoded extends Pick<RawMessage, "body" | "contentType" | "contentEncoding"> {
  freshBytes?: boolean;
}

function encode(data: unknown, options: SendOptions, serializer: string): Encoded {
  if (options.contentType !== undefined) {
    if (typeof data === "string")
      return {
        body: Buffer.from(data, "utf8"),
        contentType: options.contentType,
        contentEncoding: options.contentEncoding ?? "utf-8",
        freshBytes: true,
      };
    if (data instanceof Uint8Array)
      return {
        body: data,
        contentType: options.contentType,
        contentEncoding: options.contentEncoding ?? "binary",
      };
    throw new EncodeError("with a contentType, send pre-encoded data: a Uint8Array or a string");
  }
  const codec = codecByName(serializer);
  let body: Uint8Array;
  try {
    body = codec.encode(data);
  } catch (error) {
    if (error instanceof EncodeError) throw error;
    throw new EncodeError(`the ${codec.name} codec could not encode the message`, { cause: error });
  }
  return {
    body,
    contentType: codec.contentType,
    contentEncoding: codec.contentEncoding,
    freshBytes: codec.freshBytes,
  };
}

/** `groupId` and `deduplicationId`, the ones given: each a non-empty string. */
function messageIds(options: SendOptions): Pick<PublishRequest, "groupId" | "deduplicationId"> {
  const ids: Pick<PublishRequest, "groupId" | "deduplicationId"> = {};
  for (const name of ["groupId", "deduplicationId"] as const) {
    const value: unknown = options[name];
    if (value === undefined) continue;
    if (typeof value !== "string" || value === "")
      throw new InvalidOptionsError(
        `${name} must be a non-empty string, got ${JSON.stringify(value)}`,
      );
    ids[name] = value;
  }
  return ids;
}

/** Adds a send's delay to its request; 0 is none. */
function delayed(request: PublishRequest, delay: number): void {
  if (checkNumber("delay", delay, DELAY_RANGE) === 0) return;
  if (request.mandatory) {
    throw new InvalidOptionsError(
      `a delayed message cannot be mandatory: whether a queue takes it is only known when it is due, ${delay} ms after the send. Send it without mandatory, or without delay`,
    );
  }
  if (request.message.properties.expiration !== undefined) {
    throw new InvalidOptionsError(
      `a delayed message cannot carry an expiration: on RabbitMQ the delay itself ends it. Give the queue a messageTtl instead, or send without delay`,
    );
  }
  request.delay = delay;
}

/** The send options that are message properties. */
const PROPERTY_NAMES: ReadonlySet<string> = new Set([
  "messageId",
  "correlationId",
  "replyTo",
  "priority",
  "expiration",
  "timestamp",
  "type",
  "appId",
  "userId",
] satisfies (keyof MessageProperties)[]);

function properties(
  options: SendOptions,
  deliveryMode: SendOptions["deliveryMode"],
): MessageProperties {
  checkNumber("priority", options.priority, PRIORITY_RANGE);
  checkNumber("expiration", options.expiration, EXPIRATION_RANGE);
  checkDeliveryMode(deliveryMode);
  const result: Record<string, unknown> = {
    deliveryMode: deliveryMode === 1 || deliveryMode === "transient" ? 1 : 2,
  };
  // Only the properties given: absent ones stay absent on the wire. The
  // send's own keys are walked (most sends give none), not every name.
  for (const name in options) {
    const value = options[name as keyof SendOptions];
    if (value !== undefined && PROPERTY_NAMES.has(name)) result[name] = value;
  }
  return result as MessageProperties;
}

function checkDeliveryMode(mode: unknown): void {
  if (mode !== undefined && !DELIVERY_MODES.includes(mode)) {
    throw new InvalidOptionsError(
      `deliveryMode must be 1, 2, 'persistent' or 'transient', got ${typeof mode === "string" ? `'${mode}'` : String(mode)}`,
    );
  }
}
