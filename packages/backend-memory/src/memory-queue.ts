import {
  type DeadLetterReason,
  isExpired,
  overflowCount,
  type PrefetchWindow,
  type QueueDeclaration,
  ResourceLockedError,
  timeToLive,
} from "@carrot/core/backend";
import { ReadyMessages } from "./ready-messages.js";
import type { StoredMessage } from "./stored-message.js";

/** One subscription on a queue, as the queue sees it. */
export interface QueueConsumer {
  readonly tag: string;
  readonly noAck: boolean;
  /** Its prefetch: how many more deliveries it may take now (the tracker counts settles). */
  readonly window: PrefetchWindow;
  deliver(stored: StoredMessage): void;
  /** The queue was deleted under this consumer. */
  cancelledByBroker(): void;
}

/** What a queue needs from its broker: where dead letters go, and how it is removed. */
export interface QueueHost {
  deadLetter(queue: MemoryQueue, stored: StoredMessage, reason: DeadLetterReason): void;
  removeQueue(name: string): void;
}

/**
 * Ready messages a queue holds for consumers with room, waiting for its
 * dispatch, past which publishing to it waits for that dispatch.
 */
const FLOW_CONTROL_BACKLOG = 1000;

/**
 * One queue: its ready messages, its consumers served round-robin within
 * their prefetch, and its TTL and length limit. Dispatch runs on a later
 * turn of the event loop, never inside `publish`, so that memory behaves like
 * a broker across a network: delivery is always asynchronous.
 *
 * Flow control, as RabbitMQ's: a publisher that never yields (its sends
 * confirmed at once, it sends the next) would keep the dispatch from ever
 * running, and the queue would grow until it stops. So once a queue holds
 * more than FLOW_CONTROL_BACKLOG messages that its consumers have room for,
 * a publish to it is confirmed after the next dispatch.
 */
export class MemoryQueue {
  readonly #ready: ReadyMessages;
  readonly #consumers: QueueConsumer[] = [];
  #next = 0;
  #dispatchScheduled = false;
  /** Publishes held by flow control, released by the next dispatch. */
  #afterDispatch?: { promise: Promise<void>; release(): void };
  #expiryTimer?: NodeJS.Timeout;
  #deleted = false;

  constructor(
    readonly declaration: QueueDeclaration,
    readonly host: QueueHost,
    /** The connection that owns an exclusive queue. */
    readonly owner?: object,
  ) {
    this.#ready = new ReadyMessages(declaration.arguments.maxPriority);
  }

  get name(): string {
    return this.declaration.name;
  }

  get readyCount(): number {
    return this.#ready.length;
  }

  get consumerCount(): number {
    return this.#consumers.length;
  }

  assertAccess(connection: object): void {
    if (this.owner && this.owner !== connection) {
      throw new ResourceLockedError(`queue '${this.name}' is exclusive to another connection`);
    }
  }

  /**
   * Enqueues; returns what the publish must wait for when flow control holds
   * it (the next dispatch), else undefined.
   */
  enqueue(stored: StoredMessage): Promise<void> | undefined {
    const args = this.declaration.arguments;
    const ttl = timeToLive(args, stored.message.properties.expiration);
    if (ttl !== undefined) stored.expiresAt = Date.now() + ttl;
    this.#ready.push(stored);
    for (let over = overflowCount(args, this.#ready.length); over > 0; over--) {
      this.host.deadLetter(this, this.#ready.shift()!, "maxlen");
    }
    this.#afterChange();
    return this.#ready.length > FLOW_CONTROL_BACKLOG && this.#consumerHasRoom()
      ? this.#nextDispatch()
      : undefined;
  }

  /** Back at the front, its deliveries counted: an unacked message returned to the queue. */
  requeue(stored: StoredMessage): void {
    if (this.#deleted) return;
    this.#ready.unshift(stored);
    this.#afterChange();
  }

  /** The next live message, for `get`. */
  take(): StoredMessage | undefined {
    this.#expireHead();
    return this.#ready.shift();
  }

  purge(): number {
    return this.#ready.clear();
  }

  addConsumer(consumer: QueueConsumer): void {
    this.#consumers.push(consumer);
    this.scheduleDispatch();
  }

  removeConsumer(consumer: QueueConsumer): void {
    const index = this.#consumers.indexOf(consumer);
    if (index < 0) return;
    this.#consumers.splice(index, 1);
    if (this.declaration.autoDelete && this.#consumers.length === 0)
      this.host.removeQueue(this.name);
  }

  /** Called when a consumer gained room (an ack) or messages arrived. */
  scheduleDispatch(): void {
    if (this.#dispatchScheduled || this.#deleted) return;
    this.#dispatchScheduled = true;
    setImmediate(() => {
      this.#dispatchScheduled = false;
      this.#dispatch();
      this.#releaseHeld();
    });
  }

  destroy(): void {
    this.#deleted = true;
    this.#releaseHeld();
    for (const consumer of this.#consumers.splice(0)) consumer.cancelledByBroker();
    this.#ready.clear();
    clearTimeout(this.#expiryTimer);
  }

  #afterChange(): void {
    this.scheduleDispatch();
    this.#armExpiry();
  }

  #dispatch(): void {
    while (!this.#deleted) {
      this.#expireHead();
      if (this.#ready.length === 0) break;
      const consumer = this.#nextConsumerWithRoom();
      if (!consumer) break;
      const stored = this.#ready.shift()!;
      consumer.deliver(stored);
    }
    this.#armExpiry();
  }

  #nextDispatch(): Promise<void> {
    if (!this.#afterDispatch) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => {
        release = resolve;
      });
      this.#afterDispatch = { promise, release };
    }
    return this.#afterDispatch.promise;
  }

  #releaseHeld(): void {
    this.#afterDispatch?.release();
    this.#afterDispatch = undefined;
  }

  #consumerHasRoom(): boolean {
    return this.#consumers.some((consumer) => consumer.noAck || consumer.window.room > 0);
  }

  #nextConsumerWithRoom(): QueueConsumer | undefined {
    const count = this.#consumers.length;
    for (let i = 0; i < count; i++) {
      const consumer = this.#consumers[(this.#next + i) % count]!;
      if (consumer.noAck || consumer.window.room > 0) {
        this.#next = (this.#next + i + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  /** As in RabbitMQ, messages expire when they reach the head of the queue. */
  #expireHead(): void {
    // Most heads have no expiry: no clock read for them (this runs for every delivery).
    if (this.#ready.peek()?.expiresAt === undefined) return;
    const now = Date.now();
    for (
      let head = this.#ready.peek();
      head && isExpired(head.expiresAt, now);
      head = this.#ready.peek()
    ) {
      this.host.deadLetter(this, this.#ready.shift()!, "expired");
    }
  }

  /** A timer for the head's expiry, so that messages expire (and dead-letter) even with no consumer. */
  #armExpiry(): void {
    if (this.#expiryTimer || this.#deleted) return;
    const expiresAt = this.#ready.peek()?.expiresAt;
    if (expiresAt === undefined) return;
    this.#expiryTimer = setTimeout(
      () => {
        this.#expiryTimer = undefined;
        this.#expireHead();
        this.scheduleDispatch();
        this.#armExpiry();
      },
      Math.max(0, expiresAt - Date.now()),
    );
    this.#expiryTimer.unref();
  }
}
