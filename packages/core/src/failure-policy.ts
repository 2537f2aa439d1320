/**
 * The failure policy at work: what becomes of a message whose callback threw
 * without settling it, or for which `message.retry()` was called.
 *
 * Every path sends a copy first and acks the original after, so that a crash
 * between the two duplicates the message and never loses it. The copy is the
 * same body bytes, content type and encoding, properties and headers, plus
 * the failure record (failure-record.ts). A retry goes to the default
 * exchange with the queue's name as its key, so that only this queue gets it
 * again: behind the messages that came in meanwhile, not in its old place.
 * A copy carries no `userId` (RabbitMQ takes only the sending connection's)
 * and no `expiration` (the message was delivered in time; a delayed copy
 * cannot carry one, see `SendOptions.delay`).
 * When a copy cannot be sent, the original is requeued as it is instead;
 * when even that fails, the broker redelivers it once the connection is gone.
 */
import { randomUUID } from "node:crypto";
import { assertPublishable } from "./capability-checks.js";
import type { Connection } from "./connection.js";
import type {
  Backend,
  Delivery,
  DeliveryInfo,
  PublishRequest,
  QueueArguments,
  RawMessage,
} from "./contract.js";
import {
  NotFoundError,
  PublishTimeoutError,
  UnroutableError,
  UnsupportedFeatureError,
} from "./errors.js";
import { withFailure } from "./failure-record.js";
import type { MessageState } from "./message.js";
import { retryDelay } from "./retry-backoff.js";
import type { ResolvedRetryPolicy } from "./retry-policy.js";
import { withTimeout } from "./time-limits.js";

/** One message to run through the policy. */
export interface FailureRequest {
  /** What its callback threw (the key present, whatever the value); no key for `message.retry()`. */
  readonly error?: unknown;
  /** The wait `message.retry({ delay })` asked for; absent: the backoff's for this attempt. */
  readonly delay?: number;
}

/** The message as the policy reads it: its bytes, its count, where it was first sent. */
export interface FailingMessage {
  readonly raw: RawMessage;
  /** Deliveries so far, this one included (`message.deliveryCount`). */
  readonly deliveryCount: number;
  /** Where it was first published (a retried copy's original exchange and key). */
  readonly deliveryInfo: DeliveryInfo;
}

/** What the policy did with one message. */
export interface FailureOutcome {
  /** The message's state after it. */
  readonly state: Extract<MessageState, "retried" | "rejected" | "requeued">;
  /** What happened, as a sentence after "the message was": "retried in 250 ms (attempt 1 of 3)". */
  readonly summary: string;
  /** The send that failed, when the message was requeued instead. */
  readonly sendError?: unknown;
}

/** How long a copy's send may wait for the broker (a Publisher's default `sendTimeout`). */
const SEND_TIMEOUT = 30_000;

/** One consumer's failure policy: its queue, its `retry` option, and its failed queue once declared. */
export class FailurePolicy {
  readonly #connection: Connection;
  readonly #queue: string;
  readonly #policy: ResolvedRetryPolicy;
  readonly #queueArguments: QueueArguments;
  readonly #random: () => number;
  /** The failed queue's name once declared; cleared when the declaration fails, so the next try declares again. */
  #failedQueue?: Promise<string>;

  /**
   * @param random the backoff's jitter source, [0, 1) (tests pass their own)
   */
  constructor(
    connection: Connection,
    queue: string,
    policy: ResolvedRetryPolicy,
    queueArguments: QueueArguments = {},
    random: () => number = Math.random,
  ) {
    this.#connection = connection;
    this.#queue = queue;
    this.#policy = policy;
    this.#queueArguments = queueArguments;
    this.#random = random;
  }

  /** A message delivered `deliveryCount` times has had all its attempts: the next step is `exhausted`. */
  exhausted(deliveryCount: number): boolean {
    return deliveryCount >= this.#policy.attempts;
  }

  /**
   * Refuses, before the message is settled, a delay asked for on a backend
   * that cannot hold one (`UnsupportedFeatureError`).
   */
  checkDelay(delay: number): void {
    const backend = this.#connection.backend;
    if (delay > 0 && !backend.capabilities.delayedDelivery) {
      throw new UnsupportedFeatureError(
        `the ${backend.name} backend does not support delayed delivery: retry() without a delay, or with delay 0`,
      );
    }
  }

  /**
   * Sends the copy where the policy says, then settles the original. Never
   * rejects: what failed is in the outcome's summary.
   */
  async apply(
    message: FailingMessage,
    delivery: Delivery,
    request: FailureRequest,
  ): Promise<FailureOutcome> {
    const count = message.deliveryCount;
    const exhausted = this.exhausted(count);
    if (exhausted && this.#policy.exhausted === "drop") return this.#drop(delivery, count);
    let summary: string;
    try {
      const backend = this.#connection.backend;
      const copy = copyWithRecord(message.raw, delivery.info, count, request);
      const { groupId } = delivery.info;
      summary = exhausted
        ? await this.#putAway(backend, copy, groupId, message.deliveryInfo.routingKey, count)
        : await this.#retry(backend, copy, groupId, count, request.delay);
    } catch (error) {
      return requeueInstead(delivery, error, exhausted ? "move" : "retry");
    }
    return ackAfter(delivery, summary, exhausted ? "rejected" : "retried");
  }

  async #retry(
    backend: Backend,
    copy: RawMessage,
    groupId: string | undefined,
    count: number,
    asked: number | undefined,
  ): Promise<string> {
    let delay = asked ?? retryDelay(this.#policy.backoff, count, this.#random);
    let skipped = "";
    if (delay > 0 && !backend.capabilities.delayedDelivery) {
      // Without delays a retry still helps (a passing fault); it just comes back at once.
      skipped = `; the ${backend.name} backend cannot delay a message, so the backoff of ${delay} ms was skipped`;
      delay = 0;
    }
    const request: PublishRequest = {
      exchange: "",
      routingKey: this.#queue,
      message: copy,
      mandatory: false,
    };
    if (delay > 0) request.delay = delay;
    await send(backend, request, groupId);
    const { attempts } = this.#policy;
    const of = attempts === Number.POSITIVE_INFINITY ? "unlimited" : String(attempts);
    return `retried ${delay > 0 ? `in ${delay} ms` : "at once"} (attempt ${count} of ${of})${skipped}`;
  }

  /** The exhausted path ("dead-letter" or "failed-queue"): where the copy went. */
  async #putAway(
    backend: Backend,
    copy: RawMessage,
    groupId: string | undefined,
    routingKey: string,
    count: number,
  ): Promise<string> {
    const after = `after ${count} attempt${count === 1 ? "" : "s"}`;
    if (this.#policy.exhausted === "failed-queue")
      return `moved to '${await this.#toFailedQueue(backend, copy, groupId)}' ${after}`;
    const exchange = this.#queueArguments.deadLetterExchange ?? "";
    const key = this.#queueArguments.deadLetterRoutingKey ?? routingKey;
    try {
      await send(
        backend,
        { exchange, routingKey: key, message: copy, mandatory: backend.capabilities.mandatory },
        groupId,
      );
      return `dead-lettered to '${exchange}' with routing key '${key}' ${after}`;
    } catch (error) {
      // Kept where the user can find it rather than requeued for ever.
      if (!(error instanceof UnroutableError || error instanceof NotFoundError)) throw error;
      const failedQueue = await this.#toFailedQueue(backend, copy, groupId);
      const why =
        error instanceof NotFoundError
          ? "does not exist"
          : `routed it to no queue (routing key '${key}')`;
      return `moved to '${failedQueue}' ${after}: the dead-letter exchange '${exchange}' ${why}`;
    }
  }

  /** Publishes the copy to the failed queue, declared first (once); resolves to its name. */
  async #toFailedQueue(
    backend: Backend,
    copy: RawMessage,
    groupId: string | undefined,
  ): Promise<string> {
    for (let declaredNow = false; ; declaredNow = true) {
      const name = await this.#declaredFailedQueue(backend);
      try {
        const request = {
          exchange: "",
          routingKey: name,
          message: copy,
          mandatory: backend.capabilities.mandatory,
        };
        await send(backend, request, groupId);
        return name;
      } catch (error) {
        // Deleted since it was declared: declare it again, once.
        if (!(error instanceof UnroutableError) || declaredNow) throw error;
        this.#failedQueue = undefined;
      }
    }
  }

  #declaredFailedQueue(backend: Backend): Promise<string> {
    this.#failedQueue ??= (async () => {
      const name = backend.failedQueueName?.(this.#queue) ?? `${this.#queue}.failed`;
      // Durable and classic whatever the source queue is: a place to look, not to consume at speed.
      await this.#connection.declareQueue({ name, durable: true, exclusive: false });
      return name;
    })().catch((error: unknown) => {
      this.#failedQueue = undefined;
      throw error;
    });
    return this.#failedQueue;
  }

  async #drop(delivery: Delivery, count: number): Promise<FailureOutcome> {
    const { deadLetterExchange } = this.#queueArguments;
    const dropped =
      deadLetterExchange === undefined
        ? "dropped"
        : `rejected (the broker dead-letters it to '${deadLetterExchange}')`;
    const summary = `${dropped} after ${count} attempt${count === 1 ? "" : "s"} (exhausted: "drop")`;
    try {
      await delivery.reject(false);
      return { state: "rejected", summary };
    } catch (error) {
      return {
        state: "rejected",
        summary: `left for the broker to deliver again: its reject failed (${describe(error)})`,
      };
    }
  }
}

/**
 * The message as it is sent again: its own bytes, headers and properties
 * (all but `userId` and `expiration`), with the failure record.
 */
function copyWithRecord(
  raw: RawMessage,
  info: DeliveryInfo,
  attempts: number,
  request: FailureRequest,
): RawMessage {
  const failure = {
    attempts,
    exchange: info.exchange,
    routingKey: info.routingKey,
    now: new Date(),
  };
  // RabbitMQ refuses a message whose user id is not the publishing connection's
  // user: another user's would make the copy unsendable, and requeued for ever.
  // Its expiration is spent: the message was delivered before it.
  const { userId: _, expiration: __, ...properties } = raw.properties;
  const copy: RawMessage = {
    body: raw.body,
    headers: withFailure(
      raw.headers,
      "error" in request ? { ...failure, error: request.error } : failure,
    ),
    properties,
  };
  if (raw.contentType !== undefined) copy.contentType = raw.contentType;
  if (raw.contentEncoding !== undefined) copy.contentEncoding = raw.contentEncoding;
  return copy;
}

/**
 * Publishes one copy: checked as a Publisher's send is, within the send
 * deadline. A copy of a grouped message (SQS FIFO) stays in its group, with
 * an id of its own so that the broker does not take it for the original.
 */
async function send(backend: Backend, request: PublishRequest, groupId?: string): Promise<void> {
  if (groupId !== undefined) {
    request.groupId = groupId;
    request.deduplicationId = randomUUID();
  }
  assertPublishable(backend, request);
  await withTimeout(
    backend.publish(request),
    SEND_TIMEOUT,
    () =>
      new PublishTimeoutError(
        `the broker did not confirm the message's copy within ${SEND_TIMEOUT} ms; it may or may not have it`,
      ),
  );
}

async function ackAfter(
  delivery: Delivery,
  summary: string,
  state: FailureOutcome["state"],
): Promise<FailureOutcome> {
  try {
    await delivery.ack();
    return { state, summary };
  } catch (error) {
    return {
      state,
      summary: `${summary}, but this delivery's ack failed (${describe(error)}): the broker will deliver it again too`,
    };
  }
}

async function requeueInstead(
  delivery: Delivery,
  sendError: unknown,
  what: "retry" | "move",
): Promise<FailureOutcome> {
  const why = `its ${what} could not be sent (${describe(sendError)})`;
  try {
    await delivery.reject(true);
    return { state: "requeued", summary: `requeued as it was: ${why}`, sendError };
  } catch (error) {
    return {
      state: "requeued",
      summary: `left for the broker to deliver again: ${why}, and the requeue failed too (${describe(error)})`,
      sendError,
    };
  }
}

/** A carrot or backend error as one line: its name and message. */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
