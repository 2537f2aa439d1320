import { codecForContentType } from "./codecs/codec-registry.js";
import { COMPRESSION_HEADER, decompress, MIN_DECOMPRESSED_LIMIT } from "./codecs/compression.js";
import type { Delivery, DeliveryInfo, Headers, MessageProperties, RawMessage } from "./contract.js";
import {
  CarrotError,
  DecodeError,
  MessageStateError,
  TooLargeToDecodeError,
  UnsupportedFeatureError,
} from "./errors.js";
import { type Schema, validateSync } from "./schema.js";

/** Where a message is in its life: not settled yet, or how it was settled. */
export type MessageState = "pending" | "acked" | "rejected" | "requeued";

/** How a consumer decodes what it receives: its accept list, optional schema and size limit. */
export interface DecodeRules<T> {
  accepted: ReadonlySet<string>;
  schema?: Schema<T>;
  /** The most bytes a compressed body may inflate to. */
  maxDecompressedSize: number;
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

  /** The consumer's set of messages awaiting a settle; this one leaves it when settled. */
  readonly #unsettled?: Set<Message<unknown>>;

  /** A Consumer makes its messages: applications receive them, never build them. @internal */
  constructor(
    delivery: Delivery,
    rules: DecodeRules<T>,
    options: { noAck: boolean; unsettled?: Set<Message<unknown>> },
  ) {
    this.#delivery = delivery;
    this.#rules = rules;
    this.#unsettled = options.unsettled;
    // A noAck delivery was acknowledged by the broker when it was sent.
    this.#state = options.noAck ? "acked" : "pending";
    this.noAck = options.noAck;
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
  /** How it arrived: its queue, exchange, routing key and whether it is a redelivery. */
  get deliveryInfo(): DeliveryInfo {
    return this.#delivery.info;
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

  /** The backend's promise itself, not one more wrapped around it: this is every message's path. */
  #settle(to: Exclude<MessageState, "pending">): Promise<void> {
    try {
      this.#transition(to);
      // Promise.resolve returns a native promise as is; it guards a backend that returns none.
      return Promise.resolve(
        to === "acked" ? this.#delivery.ack() : this.#delivery.reject(to === "requeued"),
      );
    } catch (error) {
      return Promise.reject(error);
    }
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
    this.#unsettled?.delete(this);
  }
}

function verb(state: MessageState): string {
  return state === "acked" ? "ack" : state === "rejected" ? "reject" : "requeue";
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
