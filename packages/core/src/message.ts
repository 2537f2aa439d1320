import { codecForContentType } from "./codecs/codec-registry.js";
import { COMPRESSION_HEADER, decompress, MIN_DECOMPRESSED_LIMIT } from "./codecs/compression.js";
import type { Connection } from "./connection.js";
import type { Delivery, DeliveryInfo, Headers, MessageProperties, RawMessage } from "./contract.js";
import {
  CarrotError,
  DecodeError,
  MessageStateError,
  TooLargeToDecodeError,
  UnsupportedFeatureError,
} from "./errors.js";
import type { FailureOutcome, FailurePolicy, FailureRequest } from "./failure-policy.js";
import { type FailureRecord, readFailureRecord } from "./failure-record.js";
import { checkNumber, DELAY_RANGE } from "./number-options.js";
import { checkOptionNames, MESSAGE_RETRY_NAMES } from "./option-names.js";
import type { SendOptions } from "./publisher.js";
import { sendReply } from "./request-reply.js";
import { type Schema, validateSync } from "./schema.js";
import type { SettleOperation, SettleOutcome } from "./telemetry/semantic-attributes.js";
import type { UnsettledMessages } from "./unsettled-messages.js";

/**
 * Where a message is in its life: not settled yet, or how it was settled.
 * "retried": its consumer's failure policy sent a copy back to the queue for
 * another attempt and acked this delivery (`message.retry()`, or a callback
 * that threw). A message whose attempts were all used up is "rejected" when
 * the policy moves it on (dead-lettered, to the failed queue, or dropped),
 * as one the application rejects is dead-lettered or dropped.
 */
export type MessageState = "pending" | "acked" | "rejected" | "requeued" | "retried";

/** What `message.retry()` takes. */
export interface MessageRetryOptions {
  /**
   * Milliseconds before the copy is delivered (a whole number, 0 for at
   * once); default: the consumer's backoff for this attempt. Needs the
   * backend's `delayedDelivery` capability when above 0.
   */
  delay?: number;
}

/** How a consumer decodes what it receives: its accept list, optional schema and size limit. */
export interface DecodeRules<T> {
  accepted: ReadonlySet<string>;
  schema?: Schema<T>;
  /** The most bytes a compressed body may inflate to. */
  maxDecompressedSize: number;
}

/** Where messages were received: what every message of one consumer's session shares. @internal */
export interface MessageOrigin {
  /** Consumed with noAck. */
  readonly noAck: boolean;
  /** The consumer's messages awaiting a settle; a message tells it when it is settled. */
  readonly unsettled?: UnsettledMessages;
  /** The consumer's failure policy, which `retry()` and a failed callback go through. */
  readonly policy?: FailurePolicy;
  /** The consumer's connection, which `reply()` sends on. */
  readonly connection?: Connection;
}

/**
 * A received message. It is settled exactly once: `ack()`, `reject()` or
 * `requeue()`; a second settle throws `MessageStateError`.
 */
export class Message<T = unknown> {
  /** Consumed with noAck: the broker considered it acknowledged on delivery. */
  readonly noAck: boolean;
  readonly #delivery: Delivery;
  readonly #rules: DecodeRules<T>;
  #state: MessageState;
  /** The decoded payload, once `#decoded` (it may itself be undefined or null). */
  #payload?: T;
  #decoded = false;
  /** `deliveryInfo`, read once: a retried copy's shows where the message was first sent. */
  #info?: DeliveryInfo;

  /** Where it was received: shared by all the messages of one consumer's session. */
  readonly #origin: MessageOrigin;

  /**
   * A Consumer makes its messages: applications receive them, never build
   * them. `origin` is one object per session, not one per message. @internal
   */
  constructor(delivery: Delivery, rules: DecodeRules<T>, origin: MessageOrigin) {
    this.#delivery = delivery;
    this.#rules = rules;
    this.#origin = origin;
    // A noAck delivery was acknowledged by the broker when it was sent.
    this.#state = origin.noAck ? "acked" : "pending";
    this.noAck = origin.noAck;
  }

  /** The message as the backend delivered it. */
  get raw(): RawMessage {
    return this.#delivery.message;
  }

  /** The raw bytes as they arrived (compressed if the sender compressed them). */
  get body(): Uint8Array {
    return this.#delivery.message.body;
  }
  /** The content type the sender's codec recorded ("application/json"...); it picks the decoder. */
  get contentType(): string | undefined {
    return this.#delivery.message.contentType;
  }
  /** The sender's content encoding ("utf-8", "binary"...). */
  get contentEncoding(): string | undefined {
    return this.#delivery.message.contentEncoding;
  }
  /** The message's headers, as an object without a prototype. */
  get headers(): Headers {
    return this.#delivery.message.headers;
  }
  /** The message's properties: `messageId`, `correlationId`, `replyTo`, `timestamp`, `priority`... */
  get properties(): MessageProperties {
    return this.#delivery.message.properties;
  }
  /**
   * How it arrived: its queue, exchange, routing key and whether it is a
   * redelivery. For a copy the failure policy sent to one queue alone (a
   * retry, or a move to the failed queue), the exchange and routing key the
   * message was first published with (from its failure record), not the
   * copy's own route (the default exchange, keyed by the queue's name).
   */
  get deliveryInfo(): DeliveryInfo {
    this.#info ??= firstPublished(this.#delivery.info, this.#delivery.message.headers);
    return this.#info;
  }
  /**
   * How many times this message has been delivered, this delivery included
   * (1 the first time): the attempts its failure record counts, plus the
   * broker's count for this copy (quorum queues, SQS, Redis, memory), or
   * where the broker keeps none (RabbitMQ classic queues) 2 for a
   * redelivery and 1 otherwise. Counts requeues, retries, and deliveries
   * to a consumer that died.
   */
  get deliveryCount(): number {
    const { info, message } = this.#delivery;
    const earlier = readFailureRecord(message.headers)?.attempts ?? 0;
    return earlier + (info.deliveryCount ?? (info.redelivered ? 2 : 1));
  }
  /**
   * Why it is here again, or in a dead-letter or failed queue: the failure
   * record it carries (attempts, the last error's name and message, the
   * first and last failure times, where it was first published), or
   * undefined when it has none, or one that does not read.
   */
  get failure(): FailureRecord | undefined {
    return readFailureRecord(this.#delivery.message.headers);
  }
  /** "pending" until settled, then how it was settled ("acked" from the start with `noAck`). */
  get state(): MessageState {
    return this.#state;
  }
  /** Settled already (acked, rejected or requeued): carrot's `acknowledged`. */
  get acknowledged(): boolean {
    return this.#state !== "pending";
  }

  /** The decoded payload (decoded once, then cached). Throws DecodeError or SchemaValidationError. */
  get payload(): T {
    return this.decode();
  }

  /** Decodes by the message's own content type, never by guess, if the consumer accepts it. */
  decode(): T {
    if (!this.#decoded) {
      const { message, info } = this.#delivery;
      const value = decodeBody(message, info.queue, this.#rules);
      this.setDecoded(
        this.#rules.schema
          ? validateSync(this.#rules.schema, value, "a received message")
          : (value as T),
      );
    }
    return this.#payload as T;
  }

  /** Sets the payload a consumer already decoded and validated asynchronously. */
  setDecoded(value: T): void {
    this.#payload = value;
    this.#decoded = true;
  }

  /** Done with it: the broker forgets the message. */
  ack(): Promise<void> {
    return this.#settle("acked");
  }

  /** Refuse it: the broker drops it, or dead-letters it where the queue has a dead-letter exchange. */
  reject(): Promise<void> {
    return this.#settle("rejected");
  }

  /** Give it back: the broker delivers it again (with `redelivered` set). */
  requeue(): Promise<void> {
    return this.#settle("requeued");
  }

  /**
   * Try it again later, through the consumer's failure policy (its `retry`
   * option): a copy (the same body, headers and properties, plus the
   * failure record) goes back to the end of the queue after `delay` ms,
   * default the policy's backoff for this attempt, and this delivery is
   * acked; `state` becomes "retried". Past the policy's `attempts` the
   * message takes its `exhausted` path instead (dead-letter exchange, failed
   * queue, or dropped), and `state` becomes "rejected". Resolves once done.
   * If the copy cannot be sent, the message is requeued as it is (`state`
   * "requeued") and this rejects with the send's error; if even the requeue
   * fails, the broker delivers it again once the connection is gone.
   */
  retry(options: MessageRetryOptions = {}): Promise<void> {
    try {
      checkOptionNames(options, MESSAGE_RETRY_NAMES, "for retry()");
      const delay = checkNumber("delay", options.delay, DELAY_RANGE);
      if (delay !== undefined && this.#state === "pending") this.#origin.policy?.checkDelay(delay);
      return this.#throughPolicy(delay === undefined ? {} : { delay }).then((outcome) => {
        if (outcome.sendError !== undefined) throw outcome.sendError;
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * What the consumer does with a message whose callback threw: the
   * policy's path unless the callback settled it, and a sentence saying
   * what became of it, for the consumer's report. Never rejects. @internal
   */
  async afterCallbackError(error: unknown): Promise<string> {
    if (this.noAck)
      return "not retried: it was consumed with noAck, so the broker forgot it as it sent it";
    if (this.#state !== "pending") return `already ${this.#state} by the callback`;
    return (await this.#throughPolicy({ error })).summary;
  }

  /**
   * Claims the message for the policy (a second settle then throws), and
   * runs it, in a settle span when telemetry records: "retry", or
   * "dead_letter" for the exhausted path.
   */
  #throughPolicy(request: FailureRequest): Promise<FailureOutcome> {
    const policy = this.#origin.policy;
    if (!policy)
      throw new UnsupportedFeatureError("only a message a Consumer received can be retried");
    const exhausted = policy.exhausted(this.deliveryCount);
    this.#transition(exhausted ? "rejected" : "retried");
    const traced = this.#origin.connection?.telemetry?.startSettle(
      exhausted ? "dead_letter" : "retry",
      this.#delivery,
    );
    return policy.apply(this, this.#delivery, request).then((outcome) => {
      this.#state = outcome.state;
      traced?.end(outcome.sendError, policyOutcome(outcome.state));
      return outcome;
    });
  }

  /**
   * The backend's promise itself, not one more wrapped around it: this is
   * every message's path (unless telemetry records its settle span).
   */
  #settle(to: Exclude<MessageState, "pending" | "retried">): Promise<void> {
    try {
      this.#transition(to);
      const traced = this.#origin.connection?.telemetry?.startSettle(
        SETTLE_OPERATIONS[to],
        this.#delivery,
      );
      // Promise.resolve returns a native promise as is; it guards a backend that returns none.
      const settled = Promise.resolve(
        to === "acked" ? this.#delivery.ack() : this.#delivery.reject(to === "requeued"),
      );
      return traced === undefined ? settled : traced.track(settled, to);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Answers a request (a message sent with `publisher.request()`, or any
   * with a `replyTo`): sends `data` to its `replyTo` queue with its
   * correlation id, on the connection it was received on. It does not
   * settle the request: ack it as well. Rejects with `InvalidOptionsError`
   * when the message has no `replyTo`.
   */
  reply(data: unknown, options: SendOptions = {}): Promise<void> {
    const connection = this.#origin.connection;
    if (!connection)
      return Promise.reject(
        new UnsupportedFeatureError("only a message a Consumer received can be replied to"),
      );
    return sendReply(connection, this as Message<unknown>, data, options);
  }

  /**
   * Keep it for `seconds` more, on backends where deliveries expire (SQS,
   * Redis: the `leases` capability). Elsewhere a delivery never expires, and
   * this is refused with `UnsupportedFeatureError` rather than ignored.
   */
  async extend(seconds: number): Promise<void> {
    if (this.#state !== "pending")
      throw new MessageStateError(`cannot extend a message that is already ${this.#state}`);
    if (!this.#delivery.extend) {
      throw new UnsupportedFeatureError(
        "this backend's deliveries do not expire (no `leases` capability): there is no lease to extend",
      );
    }
    await this.#delivery.extend(seconds);
  }

  #transition(to: MessageState): void {
    if (this.#state !== "pending") {
      throw new MessageStateError(
        this.noAck
          ? `cannot ${verb(to)} a message consumed with noAck: the broker considered it acknowledged on delivery`
          : `cannot ${verb(to)} a message that is already ${this.#state}: a message is settled once`,
      );
    }
    this.#state = to;
    this.#origin.unsettled?.settled();
  }
}

const VERBS: Record<Exclude<MessageState, "pending">, string> = {
  acked: "ack",
  rejected: "reject",
  requeued: "requeue",
  retried: "retry",
};

function verb(state: MessageState): string {
  return VERBS[state as Exclude<MessageState, "pending">];
}

/** The settle span of each of `ack()`, `reject()` and `requeue()`. */
const SETTLE_OPERATIONS = {
  acked: "ack",
  rejected: "reject",
  requeued: "requeue",
} as const satisfies Record<string, SettleOperation>;

/** What the failure policy did, as `carrot.messages.settled` counts it: its exhausted path is `dead_lettered`. */
function policyOutcome(state: FailureOutcome["state"]): SettleOutcome {
  if (state === "rejected") return "dead_lettered";
  return state;
}

/**
 * A copy the failure policy sent to the queue alone (by the default exchange,
 * keyed by the queue's name: a retry, or a move to the failed queue): its
 * info with the exchange and routing key its failure record kept. Any other
 * delivery (a dead letter by its dead-letter exchange included): `info` itself.
 */
function firstPublished(info: DeliveryInfo, headers: Headers): DeliveryInfo {
  if (info.exchange !== "" || info.routingKey !== info.queue) return info;
  const record = readFailureRecord(headers);
  if (record?.originalExchange === undefined && record?.originalRoutingKey === undefined)
    return info;
  return {
    ...info,
    exchange: record.originalExchange ?? info.exchange,
    routingKey: record.originalRoutingKey ?? info.routingKey,
  };
}

/**
 * Decompresses (if the compression header says so) and decodes by content
 * type. Every failure is a `DecodeError` that names the queue.
 */
export function decodeBody(
  message: RawMessage,
  queue: string,
  { accepted, maxDecompressedSize }: Pick<DecodeRules<unknown>, "accepted" | "maxDecompressedSize">,
): unknown {
  try {
    if (message.unreadable) throw unreadableError(message.unreadable);
    const codec = codecForContentType(message.contentType, accepted);
    const compression = message.headers[COMPRESSION_HEADER];
    const body =
      typeof compression === "string"
        ? decompress(message.body, compression, maxDecompressedSize)
        : message.body;
    try {
      return codec.decode(body);
    } catch (error) {
      throw new DecodeError(
        `the body is not valid ${codec.name} (content type '${message.contentType}')`,
        { cause: error },
      );
    }
  } catch (error) {
    // Each error here was made for this message alone: saying where it came from changes no other.
    if (error instanceof CarrotError) error.message = `a message from '${queue}': ${error.message}`;
    throw error;
  }
}

/** What a backend could not read, as the DecodeError (of the same kind) that core reports. */
function unreadableError(cause: Error): DecodeError {
  const Kind = cause instanceof TooLargeToDecodeError ? TooLargeToDecodeError : DecodeError;
  return new Kind(`it cannot be read as a carrot message: ${cause.message}`, { cause });
}

/** `maxDecompressedSize` unless set: the backend's own message limit, and at least 16 MiB. */
export function defaultDecompressedLimit(maxMessageSize: number): number {
  return Math.max(maxMessageSize, MIN_DECOMPRESSED_LIMIT);
}
