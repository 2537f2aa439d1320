/**
 * One message as `forward()` sends it on: what is kept of the received
 * message, and the send to one destination.
 */
import { COMPRESSION_HEADER } from "./codecs/compression.js";
import type { Headers, MessageProperties, RawMessage } from "./contract.js";
import { FAILURE_HEADERS } from "./failure-record.js";
import type { Message } from "./message.js";
import type { SendOptions } from "./publisher.js";

/**
 * What a transform changes in the message it forwards; what it leaves out
 * stays as it was received.
 */
export interface ForwardChange {
  /**
   * A new payload: each publisher encodes it with its own serializer and
   * compression (`publisher.send`), as it would any payload it sends. The
   * received body, its content type, encoding and compression are then not
   * forwarded. The key present means a payload, even one that is undefined.
   */
  payload?: unknown;
  /** The routing key for every destination, instead of the publisher's or the received one. */
  routingKey?: string;
  /**
   * The headers to send instead of the received ones (the publishers'
   * `headers` still beneath them). With the body forwarded as it is, carrot's
   * `compression` header is kept whatever these say: it is the body's.
   */
  headers?: Headers;
}

/**
 * What forward() sends through: any Publisher, whatever its payload type and
 * serializer (a transform's new payload is one it must carry).
 */
export interface ForwardDestination {
  /** The publisher's options, of which forward() reads one. */
  readonly options: {
    /** The routing key of every message it sends, when it has one. */
    readonly routingKey?: string;
  };
  /** Sends the message as it is, resolving once the broker has it (`Publisher.sendRaw`). */
  sendRaw(
    message: RawMessage,
    options: {
      /** The routing key to send it with. */
      routingKey?: string;
    },
  ): Promise<void>;
  /** Sends a transform's new payload, encoded by the publisher. */
  send(data: never, options: SendOptions): Promise<void>;
}

/** The headers carrot's failure policy writes on a retried copy. */
const FAILURE_HEADER_NAMES: ReadonlySet<string> = new Set(Object.values(FAILURE_HEADERS));

/**
 * The received headers, less the failure record. The record counts the
 * attempts made on the source queue, under that consumer's retry policy:
 * carried on, the destination's consumer would count them as its own and
 * give up too early, or dead-letter a message that never failed there. At
 * the destination the message starts afresh; the source queue's failures
 * are the source's business.
 */
function forwardedHeaders(headers: Headers): Headers {
  const kept: Headers = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (!FAILURE_HEADER_NAMES.has(name)) kept[name] = value;
  }
  return kept;
}

/**
 * The received properties, less `userId`: RabbitMQ checks it against the
 * publishing connection's user, and closes the channel when they differ.
 */
function forwardedProperties({ userId: _, ...kept }: MessageProperties): MessageProperties {
  return kept;
}

/**
 * The route to `publisher`: the transform's routing key, else the
 * publisher's own `routingKey` option when it has one, else the key the
 * message was first published with (a retried copy's original key).
 */
function routingKeyFor(
  publisher: ForwardDestination,
  message: Message<unknown>,
  change: ForwardChange | undefined,
): string {
  return change?.routingKey ?? publisher.options.routingKey ?? message.deliveryInfo.routingKey;
}

/**
 * Sends `message` on through `publisher`, resolving once that broker has it:
 * its bytes as they are, or a transform's new payload encoded by the publisher.
 */
export function sendOn(
  publisher: ForwardDestination,
  message: Message<unknown>,
  change: ForwardChange | undefined,
): Promise<void> {
  const raw = message.raw;
  const routingKey = routingKeyFor(publisher, message, change);
  const properties = forwardedProperties(raw.properties);
  if (change && "payload" in change) {
    // A new body: the received one's compression header would lie about it.
    const { [COMPRESSION_HEADER]: _, ...headers } = change.headers ?? forwardedHeaders(raw.headers);
    const options: SendOptions = { ...properties, routingKey, headers };
    return publisher.send(change.payload as never, options);
  }
  const headers = change?.headers
    ? withCompression(change.headers, raw.headers)
    : forwardedHeaders(raw.headers);
  const forwarded: RawMessage = {
    body: raw.body,
    contentType: raw.contentType,
    contentEncoding: raw.contentEncoding,
    headers,
    properties,
  };
  return publisher.sendRaw(forwarded, { routingKey });
}

/** A transform's headers, with the received body's compression header, which the body needs. */
function withCompression(headers: Headers, received: Headers): Headers {
  const compression = received[COMPRESSION_HEADER];
  return compression === undefined ? headers : { ...headers, [COMPRESSION_HEADER]: compression };
}
