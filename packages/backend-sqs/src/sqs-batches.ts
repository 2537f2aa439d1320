import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { type BatchLimits, KeyedTickBatcher } from "@carrot/core/backend";
import { isMissingQueue } from "./aws-errors.js";
import { publishFailures, settleFailures } from "./batch-failures.js";
import type { MessageIds } from "./fifo-ids.js";
import type { QueueInfo } from "./queue-directory.js";

/** One SendMessageBatch entry, ready to go. */
export interface SendEntry {
  queue: QueueInfo;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  ids?: MessageIds;
  /** SQS's own delay (standard queues, whole seconds up to 900). */
  delaySeconds?: number;
}

interface VisibilityEntry {
  receiptHandle: string;
  seconds: number;
}

/** SendMessageBatch takes 10 entries and 1 MiB in all. */
const SEND_BATCH: BatchLimits = { entries: 10, bytes: 1024 * 1024 };
const SETTLE_BATCH: BatchLimits = { entries: 10, bytes: Number.POSITIVE_INFINITY };

/**
 * The three batched SQS calls: sends, deletes (acks) and visibility changes
 * (requeues, lease renewals) made in the same turn of the event loop go out
 * as one request per queue and per 10 entries; each caller learns its own
 * entry's outcome.
 */
export class SqsBatches {
  readonly #client: () => SQSClient;
  readonly #sendClient: () => SQSClient;
  readonly #where: string;
  readonly #onQueueGone: (queue: QueueInfo) => void;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Each keyed by queue URL: a batch request names one queue. */
  readonly #sends = new KeyedTickBatcher<string, SendEntry>(
    (url, entries) => this.#send(url, entries),
    SEND_BATCH,
  );
  readonly #deletes = new KeyedTickBatcher<string, string>(
    (url, handles) => this.#delete(url, handles),
    SETTLE_BATCH,
  );
  readonly #visibility = new KeyedTickBatcher<string, VisibilityEntry>(
    (url, entries) => this.#changeVisibility(url, entries),
    SETTLE_BATCH,
  );

  /** `sendClient` is one that does not retry (see SqsBackend). */
  constructor(
    client: () => SQSClient,
    sendClient: () => SQSClient,
    where: string,
    onQueueGone: (queue: QueueInfo) => void,
  ) {
    this.#client = client;
    this.#sendClient = sendClient;
    this.#where = where;
    this.#onQueueGone = onQueueGone;
  }

  send(entry: SendEntry, size: number): Promise<void> {
    return this.#sends.add(entry.queue.url, entry, size);
  }

  delete(queueUrl: string, receiptHandle: string): Promise<void> {
    return this.#deletes.add(queueUrl, receiptHandle);
  }

  changeVisibility(queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
    return this.#visibility.add(queueUrl, { receiptHandle, seconds });
  }

  /** Resolves once no batch request is in flight. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #send(url: string, entries: SendEntry[]): Promise<(Error | undefined)[]> {
    return this.#track(async () => {
      try {
        const sent = await this.#sendClient().send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: entries.map(({ body, attributes, ids, delaySeconds }, i) => ({
              Id: String(i),
              MessageBody: body,
              MessageAttributes: attributes,
              ...ids,
              ...(delaySeconds === undefined ? undefined : { DelaySeconds: delaySeconds }),
            })),
          }),
        );
        return publishFailures(entries, sent);
      } catch (error) {
        if (isMissingQueue(error)) {
          // Deleted since it was looked up: unroutable now, dropped as in AMQP.
          for (const { queue } of entries) this.#onQueueGone(queue);
          return entries.map(() => undefined);
        }
        return entries.map(() => publishFailures.whole(error, this.#where));
      }
    });
  }

  #delete(url: string, handles: string[]): Promise<(Error | undefined)[]> {
    return this.#settle("ack", async () => {
      const { Failed = [] } = await this.#client().send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
        }),
      );
      return settleFailures(handles.length, Failed, "ack");
    });
  }

  #changeVisibility(url: string, entries: VisibilityEntry[]): Promise<(Error | undefined)[]> {
    return this.#settle("change the visibility of", async () => {
      const { Failed = [] } = await this.#client().send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: entries.map(({ receiptHandle, seconds }, i) => ({
            Id: String(i),
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: seconds,
          })),
        }),
      );
      return settleFailures(entries.length, Failed, "change the visibility of");
    });
  }

  /** A settle batch, whose failure as a whole fails each of its entries with a carrot error. */
  #settle(
    action: string,
    work: () => Promise<(Error | undefined)[]>,
  ): Promise<(Error | undefined)[]> {
    return this.#track(() =>
      work().catch((error: unknown) => {
        throw settleFailures.whole(error, this.#where, action);
      }),
    );
  }

  #track<T>(work: () => Promise<T>): Promise<T> {
    const promise = work();
    this.#inFlight.add(promise);
    promise.then(
      () => this.#inFlight.delete(promise),
      () => this.#inFlight.delete(promise),
    );
    return promise;
  }
}
