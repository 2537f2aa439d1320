import { type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { backoffDelay, type ReconnectPolicy, type Subscription } from "@carrot/core/backend";

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
  /** Hands received messages on; resolves to how many count against the capacity until settled. */
  deliver: (messages: Message[], subscription: SqsSubscription) => Promise<number>;
  /** Gives messages received after cancel back to the queue; `drained` waits for it. */
  handBack: (messages: Message[]) => Promise<void>;
  onError: (error: Error) => void;
}

export class SqsSubscription implements Subscription {
  readonly consumerTag: string;
  readonly #o: SubscriptionOptions;
  readonly #abort = new AbortController();
  #unsettled = 0;
  #reserved = 0;
  #waiting: (() => void)[] = [];
  #running: Promise<void>[] = [];

  constructor(options: SubscriptionOptions) {
    this.#o = options;
    this.consumerTag = options.consumerTag;
  }

  start(): void {
    this.#running = Array.from({ length: this.#o.receivers }, () => this.#receive());
  }

  /** A delivery of this subscription was settled: room for one more. */
  settled(): void {
    this.#unsettled--;
    this.#wakeUp();
  }

  get cancelled(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Stops delivering at once. A receive in flight is not aborted: SQS (and
   * fauxqs) may already have picked messages for it, which would then stay
   * invisible for a whole visibility timeout; it is left to finish, and what
   * it brings is given straight back (visibility 0). `drained` says when.
   */
  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.#abort.abort();
    this.#wakeUp();
  }

  /** Resolves once no receive of this subscription is in flight any more. */
  get drained(): Promise<void> {
    return Promise.all(this.#running).then(() => undefined);
  }

  async #receive(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      const room = this.#o.capacity - this.#unsettled - this.#reserved;
      if (room <= 0) {
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
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
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "MessageGroupId"],
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
      this.#reserved -= count;
      if (signal.aborted) {
        if (messages.length > 0) await this.#o.handBack(messages);
        break;
      }
      if (messages.length === 0) continue;
      this.#unsettled += messages.length;
      const held = await this.#o.deliver(messages, this);
      this.#unsettled -= messages.length - held;
    }
  }

  #wakeUp(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
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
