import {
  KeptAliveReplyQueue,
  type QueueDeclaration,
  type ReplyDestination,
  type ReplyHandlers,
  type ReplyQueueBackend,
} from "@carrot/core/backend";
import type { ChainableCommander } from "ioredis";
import type { KeyLayout } from "./key-layout.js";
import type { RedisScripts, ScriptedRedis } from "./lua-scripts.js";

/** The shortest expiry, whatever `visibilityTimeout` says: refreshes stay a few per second at most. */
const MIN_EXPIRY_MS = 1000;

/** What a reply queue uses of its backend. */
export interface ReplyQueueHost extends ReplyQueueBackend {
  /** The backend's command connection. */
  readonly command: ScriptedRedis;
  /** Where the backend's keys are: the queue's are made and expired by these names. */
  readonly keys: KeyLayout;
}

/**
 * A connection's reply destination on Redis: a queue, `carrot-reply-<uuid>`,
 * consumed with noAck, whose keys expire unless refreshed. Redis has no
 * connection-owned keys (see declareQueue), so the queue is created with a
 * key expiry of `expiry` ms, in the same transaction, and its owner
 * refreshes it every third of that: a requester that dies (SIGKILL, a lost
 * machine) leaves its queue for at most `expiry` ms after its last refresh,
 * and then Redis deletes it; a reply sent to it after that is dropped, as a
 * publish to a missing queue is. Closing deletes it at once. An owner that
 * finds its queue gone (it went silent for longer than `expiry`, or someone
 * deleted it) reports it lost: core opens another for the next request.
 */
export async function openReplyQueue(
  host: ReplyQueueHost,
  handlers: ReplyHandlers,
): Promise<ReplyDestination> {
  const queue = new RedisReplyQueue(host, handlers);
  await queue.open();
  return queue;
}

/** The sign of life is the keys' expiry, which Redis enforces itself. */
class RedisReplyQueue extends KeptAliveReplyQueue {
  readonly #host: ReplyQueueHost;
  readonly #expiry: number;

  constructor(host: ReplyQueueHost, handlers: ReplyHandlers) {
    const expiry = Math.max(host.expiry, MIN_EXPIRY_MS);
    super({ ...host, expiry }, handlers);
    this.#host = host;
    this.#expiry = expiry;
  }

  /**
   * The queue as declareQueue makes one without arguments (its declaration,
   * its stream with the consumer group), with the expiry set in the same
   * transaction.
   */
  protected async create(): Promise<void> {
    const { command, keys } = this.#host;
    const declaration: QueueDeclaration = {
      name: this.replyTo,
      durable: false,
      exclusive: false,
      autoDelete: false,
      arguments: {},
    };
    const transaction = command.multi() as ChainableCommander &
      Record<
        "carrotDeclareQueue",
        (...args: Parameters<RedisScripts["carrotDeclareQueue"]>) => unknown
      >;
    transaction.carrotDeclareQueue(
      keys.queueMeta(this.replyTo),
      keys.stream(this.replyTo),
      keys.group,
      JSON.stringify(declaration),
      "",
      "",
      "",
    );
    for (const key of this.#keys()) transaction.pexpire(key, this.#expiry);
    failed(await transaction.exec());
  }

  /** Pushes the expiry back: gone when the declaration's key is. */
  protected async renew(): Promise<boolean> {
    const transaction = this.#host.command.multi();
    for (const key of this.#keys()) transaction.pexpire(key, this.#expiry);
    const replies = failed(await transaction.exec());
    return replies[0]?.[1] === 1; // PEXPIRE answers 1 when the key is there
  }

  protected goneReason(): string {
    return `reply queue '${this.replyTo}' is gone: this connection was silent for longer than its expiry (${this.#expiry} ms, visibilityTimeout) or someone deleted it; send the request again`;
  }

  /** Every key of the queue (the dead-letter stream and bindings exist only if made): meta first. */
  #keys(): string[] {
    const { keys } = this.#host;
    const name = this.replyTo;
    return [keys.queueMeta(name), keys.stream(name), keys.dead(name), keys.queueBound(name)];
  }
}

/** A transaction's replies, or the first error in them. */
function failed(replies: [Error | null, unknown][] | null): [Error | null, unknown][] {
  if (!replies) throw new Error("the Redis transaction was discarded");
  for (const [error] of replies) if (error) throw error;
  return replies;
}
