import { randomUUID } from "node:crypto";
import { AsyncQueue } from "./async-queue.js";
import { acceptedContentTypes, DEFAULT_ACCEPT } from "./codecs/codec-registry.js";
import type { CarriedBy, PayloadSource } from "./codecs/payload-types.js";
import type { Connection } from "./connection.js";
import type { Delivery, ExchangeType, Headers, QueueArguments, Subscription } from "./contract.js";
import { Deque } from "./deque.js";
import { CallbackError, type CarrotError, ClosedError, InvalidOptionsError } from "./errors.js";
import { FailurePolicy } from "./failure-policy.js";
import {
  type DecodeRules,
  decodeBody,
  defaultDecompressedLimit,
  Message,
  type MessageOrigin,
} from "./message.js";
import { MessageBudget } from "./message-budget.js";
import { checkNumber } from "./number-options.js";
import { CONSUMER_OPTION_NAMES, classOptions } from "./option-names.js";
import { type RetryPolicy, resolveRetryPolicy } from "./retry-policy.js";
import { type Schema, validate } from "./schema.js";
import { settledWithin } from "./time-limits.js";
import { checkDeclareMode, checkExchangeType } from "./topology-input.js";
import { warnUnhandled } from "./unhandled-warning.js";
import { UnsettledMessages } from "./unsettled-messages.js";

/**
 * What a Consumer consumes and how. Only `queue` is required; the rest have
 * safe defaults. A misspelt name fails with `InvalidOptionsError` naming the
 * closest valid one. Subclasses may set them as `static defaults`. `T` is
 * the payload type, `S` what decides it: the senders' codec, or the schema
 * (see {@link Consumer}).
 */
export interface ConsumerOptions<T = unknown, S extends PayloadSource = "json"> {
  /** The queue to declare and consume (required, in the options or `static defaults`). */
  queue?: string;
  /** The exchange to bind the queue to; none ("") leaves the queue bound only to the default exchange. */
  exchange?: string;
  /** The exchange's type when declared: "direct" (the default), "topic", "fanout" or "headers". */
  exchangeType?: ExchangeType;
  /** The binding key (a pattern on topic exchanges). */
  routingKey?: string;
  /** Binding arguments; for headers exchanges `x-match` and the header values to match. */
  bindingArguments?: Headers;
  /** The queue and exchange survive a broker restart; default true. */
  durable?: boolean;
  /**
   * Only this consumer's connection may use the queue, and the queue is
   * deleted when that connection closes; default false. Another connection
   * consuming it gets `ResourceLockedError`.
   */
  exclusive?: boolean;
  /**
   * The queue is deleted when its last consumer goes (a `cancel()`, the end
   * of a `wait()` or loop, a closed connection); a later consume declares it
   * again. The queue's only: the exchange keeps `exchangeAutoDelete`.
   */
  autoDelete?: boolean;
  /**
   * The exchange is deleted when its last binding goes; default false. Apart
   * from `autoDelete` (carrot and kombu's compat Consumer apply `auto_delete`
   * to both) because the exchange is shared: a Publisher declares it with its
   * own `autoDelete`, false by default, and the two must agree.
   */
  exchangeAutoDelete?: boolean;
  /**
   * Create nothing, only check: `declare()` asserts that the queue, and the
   * exchange if one is named, exist, and fails with `NotFoundError` if not;
   * so a misspelt queue fails the first `wait()`, `fetch()` or loop at once
   * instead of being created empty and waited on for ever. Their settings
   * (`durable`, `queueArguments`...) are not compared with the existing
   * ones. The binding to `exchange` is still made, as kombu's passive
   * queues make it: a binding creates neither queue nor exchange. Needs a
   * backend that can check without creating (`UnsupportedFeatureError`
   * otherwise). Default false.
   */
  passive?: boolean;
  /**
   * false: declare nothing, not even the binding; the queue, its exchange
   * and bindings are the infrastructure's (its own tooling, its own
   * permissions). Consuming a queue that does not exist then fails with the
   * broker's `NotFoundError`. The failure policy still declares its failed
   * queue when it first needs it. Default true.
   */
  declare?: boolean;
  /** The broker considers messages acknowledged when it sends them: no ack, no redelivery. */
  noAck?: boolean;
  /**
   * How many unacked messages may be in flight to this consumer; default
   * 100 (`DEFAULT_PREFETCH`), so that one slow consumer does not take a
   * whole queue into memory. 0 is no limit, chosen explicitly.
   */
  prefetchCount?: number;
  /**
   * The largest body, in bytes, a compressed message may inflate to; past it
   * the message is rejected as a `TooLargeToDecodeError`. Default: the
   * backend's `maxMessageSize`, and at least 16 MiB.
   */
  maxDecompressedSize?: number;
  /** Codec names or content types this consumer decodes; default: json, text, binary, msgpack. */
  accept?: readonly string[];
  /** The queue's arguments: dead-lettering, message TTL, maximum length, priorities, queue type. */
  queueArguments?: QueueArguments;
  /**
   * Validates every payload before the callback sees it, which then receives
   * the schema's output: it may be richer than what the codec carries (a
   * schema that turns an ISO string into a Date is how a json consumer
   * receives a Date). Given without type arguments, it decides `T`.
   */
  schema?: [S] extends [string] ? Schema<T> : S & Schema<T>;
  /**
   * The failure policy: what happens to a message whose callback throws
   * without settling it, and to one given to `message.retry()`. It is sent
   * again after a backoff, up to `attempts` deliveries in all, then
   * dead-lettered, moved to the failed queue or dropped (`exhausted`).
   * Default: 3 attempts, 1 s doubling to at most 60 s with full jitter,
   * then the queue's dead-letter exchange if it has one, else the failed
   * queue (`<queue>.failed`, or the backend's own name for it). Each
   * outcome of a callback that threw is reported on `error`. A retried
   * message goes to the back of the queue, behind those sent meanwhile.
   */
  retry?: RetryPolicy;
  /** The tag the broker knows this consumer by; default `carrot-` and a random UUID. */
  consumerTag?: string;
}

/**
 * Handles one message: `data` is its decoded (and validated) payload. It
 * settles the message with `message.ack()`, `reject()`, `requeue()` or
 * `retry()`; one that throws leaves it to the consumer's `retry` policy.
 */
export type ConsumerCallback<T> = (data: T, message: Message<T>) => unknown;
/** Told each decode or callback failure, with the message when there is one. */
export type ConsumerErrorListener<T> = (error: CarrotError, message?: Message<T>) => void;

/** When a `wait()` returns. */
export interface WaitOptions {
  /** Stop after this many messages were received (handled, or rejected as undecodable). */
  limit?: number;
  /** Aborting it cancels the consumer, as `cancel()` does; the wait then resolves. */
  signal?: AbortSignal;
}

/** One `wait()` or iteration: the subscription and the work it started. */
interface Session {
  subscription?: Subscription;
  /** Deliveries being handled by a `wait()`; `drained` is called when it falls to zero. */
  inFlight: number;
  drained?: () => void;
  /** Messages handed to user code and not settled yet: requeued when the session ends. */
  readonly unsettled: UnsettledMessages;
  /** What each of its messages is given: one object for the session, not one per message. */
  readonly origin: MessageOrigin;
  readonly buffer?: AsyncQueue<Delivery>;
  /** No new deliveries are taken. */
  stopping: boolean;
  /** cancel()/close() is waiting for the work in flight. */
  ending: boolean;
  readonly ended: Promise<void>;
  end(): void;
  /** Why the broker ended the subscription, if it did (its queue was deleted). */
  brokerCancel?: Error;
}

const DEFAULT_CLOSE_DEADLINE = 30_000;

/** Unacked messages in flight to a consumer unless `prefetchCount` says otherwise. */
export const DEFAULT_PREFETCH = 100;

/**
 * Declares a queue (and its exchange and binding) and consumes it: with
 * callbacks and `wait()`, one message at a time with `fetch()`, or with
 * `for await`. Subclasses set `static defaults` and may override `receive`.
 *
 * `T` is the payload type, and `S` what decides it: the codec the senders
 * use ("json" by default), whose limits `T` must keep as a Publisher's does
 * (with json, `Consumer<{ at: Date }>` does not compile: the Date arrives as
 * a string), or a schema (`Consumer<T, typeof schema>`, inferred from the
 * `schema` option when no type arguments are written), whose output `T` is.
 */
export class Consumer<T extends CarriedBy<T, S> = unknown, S extends PayloadSource = "json">
  implements AsyncIterable<Message<T>>
{
  /** Options a subclass sets for all its instances (carrot's class attributes); the constructor's win. */
  static defaults: ConsumerOptions = {};

  /** The connection this consumer declares and consumes on. */
  readonly connection: Connection;
  /** The options in force: `static defaults` merged with the constructor's. */
  readonly options: Readonly<ConsumerOptions<T, S>>;
  readonly #callbacks: ConsumerCallback<T>[] = [];
  readonly #errorListeners = new Set<ConsumerErrorListener<T>>();
  readonly #handledListeners = new Set<() => void>();
  readonly #rules: DecodeRules<T>;
  readonly #policy: FailurePolicy;
  readonly #detach: () => void;
  #declared?: Promise<void>;
  #session?: Session;
  #closed = false;

  constructor(connection: Connection, options: ConsumerOptions<T, S> = {}) {
    this.connection = connection;
    this.options = classOptions(new.target, options, CONSUMER_OPTION_NAMES, "Consumer");
    const { queue, exchangeType, prefetchCount, maxDecompressedSize, queueArguments } =
      this.options;
    if (typeof queue !== "string" || queue === "")
      throw new InvalidOptionsError("a Consumer needs a queue name (options.queue)");
    if (exchangeType !== undefined) checkExchangeType(exchangeType);
    checkDeclareMode(this.options);
    // AMQP's basic.qos carries it in 16 bits; every backend takes the same, so that options port.
    checkNumber("prefetchCount", prefetchCount, { min: 0, max: 65_535 });
    checkNumber("maxDecompressedSize", maxDecompressedSize, { min: 1, unit: "bytes" });
    const retry = resolveRetryPolicy(
      this.options.retry,
      queueArguments,
      this.options.noAck ?? false,
    );
    this.#policy = new FailurePolicy(connection, queue, retry, queueArguments);
    this.#rules = {
      accepted: acceptedContentTypes(this.options.accept ?? DEFAULT_ACCEPT),
      schema: this.options.schema as Schema<T> | undefined,
      // Until the backend is known (#ready), the floor; the backend may raise it.
      maxDecompressedSize: this.options.maxDecompressedSize ?? defaultDecompressedLimit(0),
    };
    this.#detach = connection.attach(this);
  }

  /** The queue's name, from `options.queue`. */
  get queue(): string {
    return this.options.queue!;
  }

  /** Adds a callback; callbacks run in the order registered, each with the decoded data and the message. */
  registerCallback(callback: ConsumerCallback<T>): this {
    this.#callbacks.push(callback);
    return this;
  }

  /**
   * Decode failures and callback failures, after the message went through the
   * failure policy. With no listener, each is a process warning showing its cause.
   */
  on(event: "error", listener: ConsumerErrorListener<T>): this {
    if (event === "error") this.#errorListeners.add(listener);
    return this;
  }

  /** Removes a listener added with `on`. */
  off(event: "error", listener: ConsumerErrorListener<T>): this {
    if (event === "error") this.#errorListeners.delete(listener);
    return this;
  }

  /** Called for each message; by default runs the registered callbacks. Override it in a subclass. */
  async receive(data: T, message: Message<T>): Promise<void> {
    for (const callback of this.#callbacks) await callback(data, message);
  }

  /**
   * Declares the exchange, the queue and the binding (idempotent; done
   * before consuming). With `passive`, checks that they exist instead; with
   * `declare: false`, does nothing.
   */
  declare(): Promise<void> {
    this.#declared ??= this.#declare().catch((error: unknown) => {
      this.#declared = undefined; // let a later call try again
      throw error;
    });
    return this.#declared;
  }

  async #declare(): Promise<void> {
    const o = this.options;
    if (o.declare === false) return;
    const passive = o.passive ?? false;
    const exchange = o.exchange ?? "";
    if (exchange !== "") {
      await this.connection.declareExchange({
        name: exchange,
        type: o.exchangeType ?? "direct",
        durable: o.durable ?? true,
        autoDelete: o.exchangeAutoDelete ?? false,
        passive,
      });
    }
    await this.connection.declareQueue({
      name: this.queue,
      durable: o.durable ?? true,
      exclusive: o.exclusive ?? false,
      autoDelete: o.autoDelete ?? false,
      arguments: o.queueArguments ?? {},
      passive,
    });
    if (exchange !== "") {
      await this.connection.bindQueue({
        queue: this.queue,
        exchange,
        routingKey: o.routingKey ?? "",
        ...(o.bindingArguments ? { arguments: o.bindingArguments } : {}),
      });
    }
  }

  /**
   * Consumes with the callbacks until `cancel()`, `close()`, the signal, or
   * `limit` messages received. Messages beyond the limit that the broker
   * already sent are handed back (requeued). Rejects with `NotFoundError` if
   * the queue is deleted while consuming.
   */
  async wait({ limit, signal }: WaitOptions = {}): Promise<void> {
    await this.waitSharing(new MessageBudget(limit), { signal });
  }

  /**
   * `wait()`, starting messages only while `budget` allows: a ConsumerSet's
   * consumers share one, so that together they start exactly its limit. @internal
   */
  async waitSharing(budget: MessageBudget, { signal }: WaitOptions = {}): Promise<void> {
    if (this.#callbacks.length === 0 && this.receive === Consumer.prototype.receive) {
      throw new InvalidOptionsError(
        "no callback to consume with: call registerCallback() or override receive()",
      );
    }
    const callbacks = this.#callbacks;
    await this.#consume(
      // One callback and no receive() of a subclass's: called directly, not
      // through receive()'s loop, whose async frame is one more promise per message.
      (message) =>
        callbacks.length === 1 && this.receive === Consumer.prototype.receive
          ? callbacks[0]!(message.payload, message)
          : this.receive(message.payload, message),
      true,
      { limit: budget.limit, signal },
      budget,
    );
  }

  /**
   * Consumes as `wait()` does, each message going to `handler` without
   * being decoded (it decodes on demand: `message.payload`); a handler that
   * throws leaves the message to the failure policy, as a callback's throw
   * does. What `forward()` consumes with: a body it does not read need not
   * be one this consumer could decode. @internal
   */
  consumeUndecoded(
    handler: (message: Message<T>) => unknown,
    options: WaitOptions = {},
  ): Promise<void> {
    return this.#consume(handler, false, options);
  }

  async #consume(
    handler: (message: Message<T>) => unknown,
    decode: boolean,
    { limit, signal }: WaitOptions,
    shared?: MessageBudget,
  ): Promise<void> {
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
      throw new InvalidOptionsError(`limit must be a whole number > 0, got ${limit}`);
    if (signal?.aborted) return;
    const budget = shared ?? new MessageBudget(limit);
    let handled = 0;
    const session = await this.#start((session) => {
      const done = () => {
        if (--session.inFlight === 0) session.drained?.();
        handled++;
        if (this.#handledListeners.size > 0)
          for (const listener of this.#handledListeners) listener();
        if (limit !== undefined && handled >= limit) void this.cancel();
      };
      // Handled in a microtask, not in the backend's delivery call: user code then never runs
      // inside it (an ack could re-enter it to deliver the next one). One microtask takes every
      // delivery that arrived before it runs: no promise or async frame per delivery for this.
      const waiting = new Deque<Delivery>();
      const handleWaiting = () => {
        for (let delivery = waiting.shift(); delivery; delivery = waiting.shift()) {
          try {
            this.#handle(delivery, session, handler, decode, done);
          } catch (error) {
            // Only an onHandled listener throws here: unhandled, as it was, and the rest are handled.
            void Promise.reject(error);
          }
        }
      };
      return (delivery) => {
        // Past the limit (a set's other consumers may have used it up), and at it,
        // stop the subscription at once so the broker sends nothing more.
        if (!budget.take()) {
          handBack(delivery);
          return void this.#halt(session);
        }
        if (budget.spent) void this.#halt(session);
        session.inFlight++;
        waiting.push(delivery);
        if (waiting.length === 1) queueMicrotask(handleWaiting);
      };
    });
    const abort = () => void this.cancel();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      await session.ended;
    } finally {
      signal?.removeEventListener("abort", abort);
    }
    if (session.brokerCancel) throw session.brokerCancel;
  }

  /** Called after each message a `wait()` handled (ConsumerSet counts with it). */
  onHandled(listener: () => void): () => void {
    this.#handledListeners.add(listener);
    return () => this.#handledListeners.delete(listener);
  }

  /** One message, or null when the queue is empty. Decode it with `message.decode()` / `payload`. */
  async fetch({
    noAck = this.options.noAck ?? false,
  }: {
    noAck?: boolean;
  } = {}): Promise<Message<T> | null> {
    const backend = await this.#ready();
    const traced = this.connection.telemetry?.startReceive(this.queue);
    let delivery: Delivery | null;
    try {
      delivery = await backend.get(this.queue, { noAck });
    } catch (error) {
      traced?.end(error);
      throw error;
    }
    if (traced) {
      traced.received(delivery?.message);
      traced.end();
    }
    return delivery
      ? new Message(delivery, this.#rules, {
          noAck,
          policy: this.#policy,
          connection: this.connection,
        })
      : null;
  }

  /** `for await (const message of consumer)`: the same as `iterate()` without options. */
  [Symbol.asyncIterator](): AsyncIterator<Message<T>> {
    return this.iterate();
  }

  /**
   * Consumes as an async iterator (carrot's iterconsume). Messages that cannot
   * be decoded are rejected and reported on "error", not yielded. Leaving the
   * loop cancels the subscription and hands unread messages back.
   */
  async *iterate({
    signal,
  }: {
    signal?: AbortSignal;
  } = {}): AsyncGenerator<Message<T>, void, undefined> {
    const buffer = new AsyncQueue<Delivery>();
    const session = await this.#start(() => (delivery) => buffer.push(delivery), buffer);
    const abort = () => void this.cancel();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      for (let delivery = await buffer.next(); delivery; delivery = await buffer.next()) {
        const message = this.#message(delivery, session);
        if ((await this.#decode(message)) !== undefined) continue;
        this.connection.telemetry?.delivered(this.queue);
        yield message;
      }
    } finally {
      signal?.removeEventListener("abort", abort);
      await this.cancel();
    }
    if (session.brokerCancel) throw session.brokerCancel;
  }

  /** Purges the queue; resolves to the number of messages discarded. */
  async discardAll(): Promise<number> {
    const backend = await this.#ready();
    return backend.purgeQueue(this.queue);
  }

  /** Stops consuming: no new deliveries; started callbacks finish; unread messages go back. */
  async cancel(): Promise<void> {
    await this.#stop(DEFAULT_CLOSE_DEADLINE, { requeueUnsettled: true });
  }

  /**
   * Stops consuming, lets started callbacks finish (until `deadline` ms),
   * hands unstarted messages back to the broker, and detaches from the
   * connection. Works when the connection is already broken.
   */
  async close({ deadline = DEFAULT_CLOSE_DEADLINE }: { deadline?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    await this.#stop(deadline, { requeueUnsettled: true });
  }

  /**
   * Closing with the connection: started callbacks finish, but unsettled
   * messages are left to the broker, which takes back whatever the dying
   * connection had not settled (and a late settle then tells the truth:
   * ConnectionLostError).
   */
  async closeWithConnection(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stop(DEFAULT_CLOSE_DEADLINE, { requeueUnsettled: false });
  }

  /** `await using consumer = ...`: `close()` at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #ready() {
    if (this.#closed) throw new ClosedError(`the consumer of '${this.queue}' is closed`);
    const backend = await this.connection.ready();
    this.#rules.maxDecompressedSize =
      this.options.maxDecompressedSize ??
      defaultDecompressedLimit(backend.capabilities.maxMessageSize);
    await this.declare();
    return backend;
  }

  /**
   * Starts a session: `deliveries` makes, for it, what takes each delivery.
   * It gets the session before `consume()` resolves, since a backend may
   * deliver before then.
   */
  async #start(
    deliveries: (session: Session) => (delivery: Delivery) => void,
    buffer?: AsyncQueue<Delivery>,
  ): Promise<Session> {
    if (this.#session)
      throw new InvalidOptionsError(
        `the consumer of '${this.queue}' is already consuming; cancel() it first`,
      );
    let end!: () => void;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const unsettled = new UnsettledMessages();
    const session: Session = {
      inFlight: 0,
      unsettled,
      origin: {
        noAck: this.options.noAck ?? false,
        unsettled,
        policy: this.#policy,
        connection: this.connection,
      },
      buffer,
      stopping: false,
      ending: false,
      ended,
      end,
    };
    this.#session = session;
    const onDelivery = deliveries(session);
    try {
      const backend = await this.#ready();
      const o = this.options;
      session.subscription = await backend.consume(
        this.queue,
        {
          prefetch: o.prefetchCount ?? DEFAULT_PREFETCH,
          noAck: o.noAck ?? false,
          exclusive: false,
          consumerTag: o.consumerTag ?? `carrot-${randomUUID()}`,
        },
        (delivery) => (session.stopping ? handBack(delivery) : onDelivery(delivery)),
        (reason) => {
          // The queue is gone: end this wait()/loop with the reason rather than idle forever.
          session.brokerCancel = reason;
          this.#report(reason as CarrotError);
          void this.#stop(DEFAULT_CLOSE_DEADLINE, { requeueUnsettled: false });
        },
      );
    } catch (error) {
      this.#session = undefined;
      throw error;
    }
    if (session.stopping) await session.subscription.cancel(); // halted while subscribing
    return session;
  }

  /** No new deliveries: cancels the subscription and hands back what was not started. */
  async #halt(session: Session): Promise<void> {
    if (session.stopping) return;
    session.stopping = true;
    // A broken connection has already ended the subscription; nothing to cancel then.
    await session.subscription?.cancel().catch(() => undefined);
    // Last first: brokers that requeue at the head then keep the original order.
    for (const delivery of (session.buffer?.close() ?? []).reverse()) handBack(delivery);
  }

  async #stop(
    deadline: number,
    { requeueUnsettled }: { requeueUnsettled: boolean },
  ): Promise<void> {
    const session = this.#session;
    if (!session || session.ending) return session?.ended;
    session.ending = true;
    // Each step waits for `deadline` at most: on a connection that died
    // without a word, the broker's answers to the cancel and the requeues
    // never come (the broker takes the messages back when it notices).
    await settledWithin(this.#halt(session), deadline);
    if (session.inFlight > 0) {
      await settledWithin(
        new Promise<void>((resolve) => {
          session.drained = resolve;
        }),
        deadline,
      );
    }
    // At least once: what user code received and left unsettled goes back to the queue.
    if (requeueUnsettled) await settledWithin(requeueAll(session.unsettled), deadline);
    this.#session = undefined;
    // The queue may be gone (an auto-delete queue leaves with its last
    // consumer; a deleted one ended the subscription): the next consume declares it again.
    if (this.options.autoDelete || session.brokerCancel) this.#declared = undefined;
    session.end();
  }

  #message(delivery: Delivery, session: Session): Message<T> {
    const message = new Message(delivery, this.#rules, session.origin);
    if (!session.origin.noAck) session.unsettled.add(message);
    return message;
  }

  /**
   * Decodes (and validates) ahead of user code: undefined when done; on
   * failure rejects the message, reports why, and resolves to the
   * failure. Without a schema no promise is made: this is every message's path.
   */
  #decode(message: Message<T>): undefined | Promise<Failure | undefined> {
    let value: unknown;
    try {
      value = decodeBody(message.raw, this.queue, this.#rules);
    } catch (error) {
      return this.#refuse(message, error);
    }
    const { schema } = this.#rules;
    if (!schema) {
      message.setDecoded(value as T);
      return undefined;
    }
    return validate(schema, value, `a message from '${this.queue}'`).then(
      (valid) => {
        message.setDecoded(valid);
        return undefined;
      },
      (error: unknown) => this.#refuse(message, error),
    );
  }

  async #refuse(message: Message<T>, error: unknown): Promise<Failure> {
    if (message.state === "pending") await message.reject().catch(() => undefined);
    this.#report(error as CarrotError, message);
    return { error };
  }

  /** Handles one delivery, in its process span when telemetry records (see `#deliver`). */
  #handle(
    delivery: Delivery,
    session: Session,
    handler: (message: Message<T>) => unknown,
    decode: boolean,
    done: () => void,
  ): void {
    const traced = this.connection.telemetry?.startProcess(this.queue, delivery);
    if (traced === undefined) this.#deliver(delivery, session, handler, decode, done);
    else {
      traced.run(() =>
        this.#deliver(delivery, session, handler, decode, (failure) => {
          traced.end(failure?.error); // before `done`, which may end the wait()
          done();
        }),
      );
    }
  }

  /**
   * Decodes one delivery (when `decode`) and runs the handler on it; calls
   * `done` when it is over, with what failed (the decode, or the handler).
   */
  #deliver(
    delivery: Delivery,
    session: Session,
    handler: (message: Message<T>) => unknown,
    decode: boolean,
    done: (failure?: Failure) => void,
  ): void {
    const message = this.#message(delivery, session);
    const decoded = decode ? this.#decode(message) : undefined;
    if (decoded === undefined) this.#run(message, handler, done);
    else void this.#runDecoded(decoded, message, handler, done);
  }

  /** `#run` once a schema passed the payload; `done` with the failure if it did not, or it could not be decoded. */
  async #runDecoded(
    decoded: Promise<Failure | undefined>,
    message: Message<T>,
    handler: (message: Message<T>) => unknown,
    done: (failure?: Failure) => void,
  ): Promise<void> {
    let failure: Failure | undefined;
    try {
      failure = await decoded;
    } catch (error) {
      done(); // an error listener threw: that stays an unhandled rejection
      throw error;
    }
    if (failure === undefined) this.#run(message, handler, done);
    else done(failure);
  }

  /**
   * Runs the handler; calls `done` when it returned, or when what it
   * returned settled. A synchronous handler (it returns a primitive, most
   * often undefined) costs no promise.
   */
  #run(
    message: Message<T>,
    handler: (message: Message<T>) => unknown,
    done: (failure?: Failure) => void,
  ): void {
    let result: unknown;
    try {
      result = handler(message);
    } catch (error) {
      void this.#failed(message, error, done);
      return;
    }
    if (!awaitable(result)) done();
    else {
      // A context and two closures per message: less than an async frame awaiting it made.
      void Promise.resolve(result).then(
        () => done(),
        (error: unknown) => this.#failed(message, error, done),
      );
    }
  }

  /**
   * The handler threw (or its promise rejected): the message goes through
   * the failure policy, the outcome is reported, then `done`. Rejects only
   * if an error listener throws; that stays an unhandled rejection.
   */
  async #failed(
    message: Message<T>,
    error: unknown,
    done: (failure?: Failure) => void,
  ): Promise<void> {
    try {
      const outcome = await message.afterCallbackError(error);
      this.#report(
        new CallbackError(`a callback on '${this.queue}' threw; the message was ${outcome}`, {
          cause: error,
        }),
        message,
      );
    } finally {
      done({ error });
    }
  }

  #report(error: CarrotError, message?: Message<T>): void {
    if (this.#errorListeners.size === 0) {
      warnUnhandled(error, this.connection.logger, { queue: this.queue });
      return;
    }
    for (const listener of this.#errorListeners) listener(error, message);
  }
}

/** What failed on one message: its decode, or the callback (its error as thrown). */
interface Failure {
  readonly error: unknown;
}

/** Requeues the messages one after the other, last first: brokers that requeue at the head then keep their order. */
async function requeueAll(messages: UnsettledMessages): Promise<void> {
  for (const message of messages.takeAll().reverse())
    await message.requeue().catch(() => undefined);
}

/**
 * An object or function: what `await` may have to wait for (a promise, or
 * any thenable). A primitive, most often undefined, it never waits for.
 */
function awaitable(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/** Gives a delivery the consumer will not handle back to the broker. */
function handBack(delivery: Delivery): void {
  // noAck deliveries cannot be returned; the reject of a dead delivery needs no retry.
  delivery.reject(true).catch(() => undefined);
}
