import { acceptedContentTypes, DEFAULT_ACCEPT } from "./codecs/codec-registry.js";
import type { Connection, ConnectionChild } from "./connection.js";
import type { Backend, Delivery, ReplyDestination, ReplyHandlers } from "./contract.js";
import { ClosedError, UnsupportedFeatureError } from "./errors.js";
import { openExclusiveReplyQueue } from "./exclusive-reply-queue.js";
import { type DecodeRules, defaultDecompressedLimit, Message } from "./message.js";
import { PendingRequests } from "./pending-requests.js";

const byConnection = new WeakMap<Connection, ConnectionReplies>();

/** The request-reply state of `connection`, made at its first request. */
export function repliesOf(connection: Connection): ConnectionReplies {
  let replies = byConnection.get(connection);
  if (!replies) {
    replies = new ConnectionReplies(connection);
    byConnection.set(connection, replies);
  }
  return replies;
}

/**
 * One connection's side of request-reply: its reply destination, opened at
 * the first request and shared by all (the backend's `openReplies`, or an
 * exclusive queue), and its requests waiting for replies, matched by
 * correlation id. A reply that no request awaits (it came after its
 * request timed out or was aborted, or names an id this connection never
 * sent) is dropped without a word: after a timeout that is expected, and
 * it reaches no one. Closing the connection fails the waiting requests
 * with ClosedError and closes the destination first (its queue goes).
 */
export class ConnectionReplies implements ConnectionChild {
  readonly #connection: Connection;
  readonly #pending = new PendingRequests<Message<unknown>>();
  #destination?: Promise<ReplyDestination>;
  #rules?: DecodeRules<unknown>;

  constructor(connection: Connection) {
    this.#connection = connection;
    connection.attach(this);
  }

  /** Requests waiting for their replies now. */
  get waiting(): number {
    return this.#pending.size;
  }

  /** Waits for the reply to `correlationId` (see `PendingRequests.add`). */
  expect(correlationId: string, timeout: number, signal?: AbortSignal): Promise<Message<unknown>> {
    return this.#pending.add(correlationId, timeout, signal);
  }

  /** Fails the request waiting for `correlationId` (its send failed). */
  fail(correlationId: string, error: unknown): void {
    this.#pending.reject(correlationId, error);
  }

  /** The `replyTo` of this connection's requests, opening the destination first if needed. */
  async replyTo(): Promise<string> {
    const opening = this.#open();
    return (await opening).replyTo;
  }

  #open(): Promise<ReplyDestination> {
    if (this.#destination) return this.#destination;
    const opening = (async () => {
      const backend = await this.#connection.ready();
      this.#rules = {
        accepted: acceptedContentTypes(DEFAULT_ACCEPT),
        maxDecompressedSize: defaultDecompressedLimit(backend.capabilities.maxMessageSize),
      };
      const handlers: ReplyHandlers = {
        reply: (delivery) => this.#deliver(delivery),
        lost: (reason) => this.#lost(opening, reason),
      };
      return openDestination(backend, handlers);
    })();
    this.#destination = opening;
    opening.catch(() => {
      // The next request tries again.
      if (this.#destination === opening) this.#destination = undefined;
    });
    return opening;
  }

  #deliver(delivery: Delivery): void {
    const id = delivery.message.properties.correlationId;
    if (id === undefined || !this.#rules) return;
    // A receive span linked to the reply's send: the requester's side of the trace.
    const traced = this.#connection.telemetry?.startReceive(delivery.info.queue);
    if (traced) {
      traced.received(delivery.message);
      traced.end();
    }
    this.#pending.resolve(
      id,
      new Message(delivery, this.#rules, { noAck: true, connection: this.#connection }),
    );
  }

  /** The destination will receive nothing more: its requests fail, and the next request opens another. */
  #lost(destination: Promise<ReplyDestination>, reason: Error): void {
    if (this.#destination !== destination) return;
    this.#destination = undefined;
    this.#pending.rejectAll(reason);
    destination.then((lost) => lost.close()).catch(() => undefined);
  }

  /** The connection is closing: waiting requests fail, and the destination goes before the backend. @internal */
  async closeWithConnection(): Promise<void> {
    this.#pending.rejectAll(
      new ClosedError(
        "the connection was closed while the request waited for its reply; a reply that still comes is dropped",
      ),
    );
    const destination = this.#destination;
    this.#destination = undefined;
    byConnection.delete(this.#connection);
    await (await destination?.catch(() => undefined))?.close();
  }
}

/** The backend's own destination, or an exclusive queue, or a refusal naming what is missing. */
function openDestination(backend: Backend, handlers: ReplyHandlers): Promise<ReplyDestination> {
  if (backend.openReplies) return backend.openReplies(handlers);
  if (backend.capabilities.exclusiveQueues) return openExclusiveReplyQueue(backend, handlers);
  return Promise.reject(
    new UnsupportedFeatureError(
      `the ${backend.name} backend cannot receive replies: it has neither openReplies() nor exclusive queues. Use a backend that has request-reply, or reply through queues of your own`,
    ),
  );
}
