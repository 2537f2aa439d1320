import { randomUUID } from "node:crypto";
import { abortError } from "./abort-error.js";
import type { Connection } from "./connection.js";
import { repliesOf } from "./connection-replies.js";
import { InvalidOptionsError } from "./errors.js";
import type { Message } from "./message.js";
import { checkNumber, MAX_TIMER_MS, type NumberRange } from "./number-options.js";
import { checkOptionNames, SEND_OPTION_NAMES } from "./option-names.js";
import { Publisher, type SendOptions } from "./publisher.js";

/**
 * What `publisher.request()` takes: a send's options, and how long to wait
 * for the reply. Its `signal` also ends the wait for the reply; `replyTo` is
 * the connection's own and cannot be given.
 */
export interface RequestOptions<S extends string = string> extends SendOptions<S> {
  /**
   * Milliseconds the whole request may take, its send included, before it
   * rejects with `RequestTimeoutError`; default 30 000.
   */
  timeout?: number;
}

/** How long a request waits for its reply unless told. */
const DEFAULT_REQUEST_TIMEOUT = 30_000;
const TIMEOUT_RANGE: NumberRange = { min: 1, max: MAX_TIMER_MS, unit: "milliseconds" };
const REQUEST_OPTION_NAMES: ReadonlySet<string> = new Set([...SEND_OPTION_NAMES, "timeout"]);
/** A reply goes where its request says: no routing key of its own. */
const REPLY_OPTION_NAMES: ReadonlySet<string> = new Set(
  [...SEND_OPTION_NAMES].filter((name) => name !== "routingKey"),
);

/** The publisher a connection's replies are sent with: the default exchange, nothing to declare. */
const replyPublishers = new WeakMap<Connection, Publisher>();

type Send = (data: unknown, options: SendOptions) => Promise<void>;

/**
 * Sends a request and resolves to its reply. The request carries a new
 * correlation id (or the one given) and, as its `replyTo`, the reply
 * destination of the publisher's connection, which all its requests share.
 * Rejects with RequestTimeoutError after `timeout`, with the signal's reason
 * when it aborts, as `send` does when the request is not sent, and with
 * ClosedError or ConnectionLostError when the connection closes or loses
 * the destination before the reply comes. In every case the request is
 * forgotten, and its reply, if one still comes, is dropped; one that fails
 * while its send still waits (for a slot, the connection) is not sent.
 */
export function sendRequest<R>(
  publisher: Publisher<never, string>,
  data: unknown,
  options: RequestOptions,
): Promise<Message<R>> {
  let correlationId: string;
  let timeout: number;
  let send: SendOptions;
  try {
    checkOptionNames(options, REQUEST_OPTION_NAMES, "for request()");
    const { timeout: given, ...rest } = options;
    send = rest;
    timeout = checkNumber("timeout", given, TIMEOUT_RANGE) ?? DEFAULT_REQUEST_TIMEOUT;
    if (send.replyTo !== undefined) {
      throw new InvalidOptionsError(
        "request() sets replyTo itself, to where this connection receives its replies; to have the answer go elsewhere, use send() with replyTo",
      );
    }
    correlationId = checkCorrelationId(send.correlationId) ?? randomUUID();
    const { signal } = send;
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new InvalidOptionsError("the signal of request() must be an AbortSignal");
    if (signal?.aborted) throw abortError(signal);
  } catch (error) {
    return Promise.reject(error);
  }
  const replies = repliesOf(publisher.connection);
  let reply: Promise<Message<unknown>>;
  try {
    // Waiting before the send: a reply may come before the send resolves.
    reply = replies.expect(correlationId, timeout, send.signal);
  } catch (error) {
    return Promise.reject(error);
  }
  // A request that fails first (its timeout, the connection closing) is not sent if it still waits to be.
  const settled = new AbortController();
  reply.catch(() => settled.abort());
  const signal = send.signal ? AbortSignal.any([send.signal, settled.signal]) : settled.signal;
  const sendOf = publisher.send as unknown as Send;
  replies
    .replyTo()
    .then((replyTo) => sendOf.call(publisher, data, { ...send, signal, correlationId, replyTo }))
    .catch((error: unknown) => replies.fail(correlationId, error));
  return reply as Promise<Message<R>>;
}

/**
 * Sends `data` to the request's `replyTo`, through the default exchange,
 * with the request's correlation id (its message id when it has none, as
 * AMQP 1.0 responders answer; `options.correlationId` over both), on
 * `connection`. A fresh send: nothing of the request comes with it
 * (headers, compression, failure record), only what `options` say. A
 * requester that is gone (its queue deleted or expired) is no error: the
 * default exchange drops a message for a queue that does not exist, as
 * every backend's does.
 */
export function sendReply(
  connection: Connection,
  request: Message<unknown>,
  data: unknown,
  options: SendOptions,
): Promise<void> {
  const { replyTo, correlationId, messageId } = request.properties;
  try {
    checkOptionNames(
      options,
      REPLY_OPTION_NAMES,
      "for reply() (a reply goes to the request's replyTo)",
    );
    if (!replyTo) {
      throw new InvalidOptionsError(
        "this message has no replyTo, so there is nowhere to reply: only a message sent with publisher.request() (or with a replyTo) can be answered",
      );
    }
  } catch (error) {
    return Promise.reject(error);
  }
  let publisher = replyPublishers.get(connection);
  if (!publisher) {
    publisher = new Publisher(connection, { exchange: "" });
    replyPublishers.set(connection, publisher);
  }
  const id = correlationId ?? messageId;
  const send = publisher.send as unknown as Send;
  return send.call(publisher, data, {
    ...(id === undefined ? {} : { correlationId: id }),
    ...options,
    routingKey: replyTo,
  });
}

/** A given correlation id: a non-empty string, which replies are matched by. */
function checkCorrelationId(id: unknown): string | undefined {
  if (id === undefined || (typeof id === "string" && id !== "")) return id;
  throw new InvalidOptionsError(
    `the correlationId of a request must be a non-empty string, got ${JSON.stringify(id)}`,
  );
}
