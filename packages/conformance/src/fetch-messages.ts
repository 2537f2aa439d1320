import type { Consumer, Message } from "@carrot/core";
import { delay, WaitTimeoutError } from "./wait-for.js";

/**
 * `fetch()`es until `count` messages came, within `timeoutMs`. One fetch is
 * one poll (a long poll on SQS), and a poll may miss a message that another
 * one sees (SQS samples its servers), so an empty poll is not "empty yet"
 * proof; the short pause between empty polls only keeps a short-polling
 * backend from spinning. Used where callbacks cannot be: to read messages a
 * consumer could not decode (a dead-letter queue of undecodable bodies).
 */
export async function fetchMessages<T>(
  consumer: Consumer<T>,
  count: number,
  timeoutMs: number,
): Promise<Message<T>[]> {
  const messages: Message<T>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (messages.length < count) {
    const message = await consumer.fetch();
    if (message) {
      messages.push(message);
      continue;
    }
    if (Date.now() > deadline) {
      throw new WaitTimeoutError(
        `timed out after ${timeoutMs} ms fetching ${count} message(s) from '${consumer.queue}'; got ${messages.length}`,
      );
    }
    await delay(20);
  }
  return messages;
}
