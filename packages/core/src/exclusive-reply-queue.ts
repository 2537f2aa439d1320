import { randomUUID } from "node:crypto";
import {
  type Backend,
  REPLY_QUEUE_PREFIX,
  type ReplyDestination,
  type ReplyHandlers,
} from "./contract.js";

/**
 * The reply destination core makes for a backend without `openReplies`
 * that has `exclusiveQueues`: an exclusive queue, `carrot-reply-<uuid>`,
 * consumed with noAck. The broker deletes an exclusive queue with the
 * connection that owns it, so a requester that dies leaves nothing behind;
 * one that closes deletes it first.
 */
export async function openExclusiveReplyQueue(
  backend: Backend,
  handlers: ReplyHandlers,
): Promise<ReplyDestination> {
  const name = `${REPLY_QUEUE_PREFIX}${randomUUID()}`;
  await backend.declareQueue({
    name,
    durable: false,
    exclusive: true,
    autoDelete: false,
    arguments: {},
  });
  try {
    const subscription = await backend.consume(
      name,
      { prefetch: 0, noAck: true, exclusive: true, consumerTag: name },
      (delivery) => handlers.reply(delivery),
      (reason) => handlers.lost(reason),
    );
    return {
      replyTo: name,
      async close() {
        await subscription.cancel();
        await backend.deleteQueue(name);
      },
    };
  } catch (error) {
    await backend.deleteQueue(name).catch(() => undefined);
    throw error;
  }
}
