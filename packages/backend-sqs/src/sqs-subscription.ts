import { type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  backoffDelay,
  PrefetchWindow,
  type ReconnectPolicy,
  type Subscription,
} from "@carrot/core/backend";
import { RECEIVE_SYSTEM_ATTRIBUTES } from "./delayed-delivery.js";

/**
 * One consumer on one queue: long-polling receivers that never hold more
 * unsettled messages than the prefetch allows. Each receive asks for at most
 * min(10, room left) messages; settling a message makes room and wakes them.
 * FIFO queues get one receiver, so that a group's messages are handed out in
 * order.
 */
export interface SubscriptionOptions {
  client: SQSClient;
  queueUrl: string;
  consumerTag: string;
  /** Unsettled messages allowed at once. */
  capacity: number;
  receivers: number;
  waitTimeSeconds: number;
  visibilityTimeout: number;
  reconnect: ReconnectPolicy | false;
  /** Hands received messages on; those to be settled are held in the subscription's `window`. */
  deliver: (messages: Message[], subscription: SqsSubscription) => Promise<void>;
  /** Gives messages received after cancel back to the queue; `drained` waits for it. */
  handBack: (messages: Message[]) => Promise<void>;
  onError: (error: Error) => void;
}

export class SqsSubscription implements Subscription {
  readonly consumerTag: string;
  /** This subscription's unsettled deliveries, counted by the backend's DeliveryTracker. */
  readonly window: PrefetchWindow;
  readonly #o: SubscriptionOptions;
  readonly #abort = new AbortController();
  /** Places asked for by receives in flight, or taken by messages being handed on. */
  #reserved = 0;
  #running: Promise<void>[] = [];

  constructor(options: SubscriptionOptions) {
    this.#o = options;
    this.consumerTag = options.consumerTag;
    this.window = new PrefetchWindow(options.capacity);
  }

  start(): void {
    this.#running = Array.from({ length: this.#o.receivers }, () => this.#receive());
  }

  get cancelled(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Stops delivering at once. A receive in flight is not aborted: SQS (and
   * fauxqs) may already have picked messages for it, which would then stay
   * invisible for a whole visibility timeout; it is left to finish, and what
   * it brings is given straight back (visibility 0). `drained` says when.
   * Messages delivered already stay settleable.
   */
  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.#abort.abort();
    this.window.cancel();
  }

  /** Resolves once no receive of this subscription is in flight any more. */
  get drained(): Promise<void> {
    return Promise.all(this.#running).then(() => undefined);
  }

  async #receive(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      const room = this.window.room - this.#reserved;
      if (room <= 0) {
        await this.window.roomFreed();
        continue;
      }
      const count = Math.min(10, room);
      this.#reserved += count;
      let messages: Message[];
      try {
        const response = await this.#o.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#o.queueUrl,
            MaxNumberOfMessages: count,
            WaitTimeSeconds: this.#o.waitTimeSeconds,
            VisibilityTimeout: this.#o.visibilityTimeout,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: RECEIVE_SYSTEM_ATTRIBUTES,
          }),
        );
        messages = response.Messages ?? [];
        failures = 0;
      } catch (error) {
        this.#reserved -= count;
        if (signal.aborted) break;
        this.#o.onError(error as Error);
        const policy = this.#o.reconnect;
        if (policy === false || failures >= policy.maxAttempts) break;
        await abortableDelay(backoffDelay(policy, failures++), signal);
        continue;
      }
      if (signal.aborted) {
        this.#reserved -= count;
        if (messages.length > 0) await this.#o.handBack(messages);
        break;
      }
      // Still reserved while handed on: noAck deliveries count until their deletes are done.
      if (messages.length > 0) await this.#o.deliver(messages, this);
      this.#reserved -= count;
    }
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
