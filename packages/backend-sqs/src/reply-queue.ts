import {
  DeleteQueueCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  type SQSClient,
  TagQueueCommand,
} from "@aws-sdk/client-sqs";
import {
  KeptAliveReplyQueue,
  type QueueDeclaration,
  REPLY_QUEUE_PREFIX,
  type ReplyDestination,
  type ReplyHandlers,
  type ReplyQueueBackend,
} from "@carrot/core/backend";
import { isMissingQueue } from "./aws-errors.js";

/**
 * The tag a reply queue's owner refreshes: when it last said it lives, in
 * ms since the epoch by its clock. Not a `carrot:` tag: those hold
 * declarations and bindings (queue-tags.ts).
 */
export const SEEN_TAG = "carrot-reply:seen";
/** Tags read at once by a sweep. */
const SWEEP_BATCH = 10;

/** What a reply queue uses of its backend. */
export interface ReplyQueueHost extends ReplyQueueBackend {
  /** The backend's SDK client: tags, the sweep's lists and deletes. */
  readonly client: SQSClient;
  /** Creates the queue as declareQueue does, with these tags set by the CreateQueue itself; resolves to its URL. */
  declare(declaration: QueueDeclaration, tags: Record<string, string>): Promise<string>;
  /** The SQS name of a carrot queue name (the backend's prefix before it). */
  sqsName(name: string): string;
}

/**
 * A connection's reply destination on SQS: a queue, `carrot-reply-<uuid>`,
 * consumed with noAck. SQS has no connections to tie a queue to, so the
 * queue carries a tag saying when its owner was last alive, set when it is
 * created and refreshed every third of `expiry`; each new reply queue first
 * deletes the reply queues (under the same prefix) whose tag is older than
 * `expiry`. So a requester that dies leaves its queue until the next
 * requester opens one, `expiry` after its last refresh at the earliest (a
 * restarted service sweeps its predecessor's). Clocks of the processes are
 * taken to agree within a fraction of `expiry`; a queue swept by a clock far
 * ahead is found gone by its owner at its next refresh, and reported lost,
 * so that core opens another. Closing deletes the queue at once.
 */
export async function openReplyQueue(
  host: ReplyQueueHost,
  handlers: ReplyHandlers,
): Promise<ReplyDestination> {
  await sweep(host);
  const queue = new SqsReplyQueue(host, handlers);
  await queue.open();
  return queue;
}

/** The sign of life is the tag: refreshed, and read by the sweep of the next reply queue made. */
class SqsReplyQueue extends KeptAliveReplyQueue {
  readonly #host: ReplyQueueHost;
  #url?: string;

  constructor(host: ReplyQueueHost, handlers: ReplyHandlers) {
    super(host, handlers);
    this.#host = host;
  }

  protected async create(): Promise<void> {
    this.#url = await this.#host.declare(
      { name: this.replyTo, durable: false, exclusive: false, autoDelete: false, arguments: {} },
      seenNow(),
    );
  }

  protected async renew(): Promise<boolean> {
    try {
      await this.#host.client.send(new TagQueueCommand({ QueueUrl: this.#url, Tags: seenNow() }));
      return true;
    } catch (error) {
      if (isMissingQueue(error)) return false;
      throw error;
    }
  }

  protected goneReason(): string {
    return `reply queue '${this.replyTo}' is gone: it was swept as stale (this connection did not refresh it for ${this.#host.expiry} ms, or another process's clock is far ahead) or deleted; send the request again`;
  }
}

function seenNow(): Record<string, string> {
  return { [SEEN_TAG]: String(Date.now()) };
}

/** Deletes the reply queues whose owners have not refreshed them within `expiry`. Never throws. */
async function sweep(host: ReplyQueueHost): Promise<void> {
  try {
    const urls = await replyQueueUrls(host);
    for (let i = 0; i < urls.length; i += SWEEP_BATCH) {
      await Promise.all(urls.slice(i, i + SWEEP_BATCH).map((url) => sweepOne(host, url)));
    }
  } catch (error) {
    host.reportError(error);
  }
}

async function replyQueueUrls({ client, sqsName }: ReplyQueueHost): Promise<string[]> {
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(
      new ListQueuesCommand({
        QueueNamePrefix: sqsName(REPLY_QUEUE_PREFIX),
        MaxResults: 1000,
        NextToken,
      }),
    );
    urls.push(...(page.QueueUrls ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return urls;
}

/** Deletes the queue if its seen tag is stale; one without the tag is not a reply queue of carrot's. */
async function sweepOne({ client, expiry }: ReplyQueueHost, url: string): Promise<void> {
  try {
    const { Tags } = await client.send(new ListQueueTagsCommand({ QueueUrl: url }));
    const seen = Number(Tags?.[SEEN_TAG]);
    if (!Number.isFinite(seen) || Date.now() - seen <= expiry) return;
    await client.send(new DeleteQueueCommand({ QueueUrl: url }));
  } catch (error) {
    if (!isMissingQueue(error)) throw error; // another sweep was first
  }
}
