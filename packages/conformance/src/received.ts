import type { Message } from "@carrot/core";
import type { Collector } from "./collector.js";

/** The payloads, in arrival order. */
export function payloads<T>(messages: readonly Message<T>[]): T[] {
  return messages.map((m) => m.payload);
}

/** The `redelivered` flags, in arrival order. */
export function redeliveredFlags(messages: readonly Message<unknown>[]): boolean[] {
  return messages.map((m) => m.deliveryInfo.redelivered);
}

/** Waits until a message with this payload has arrived (a sentinel, usually). */
export function untilPayload<T>(
  collector: Collector<Message<T>>,
  payload: T,
): Promise<Message<T>[]> {
  return collector.until(
    (items) => items.some((m) => m.payload === payload),
    `the message ${JSON.stringify(payload)}`,
  );
}

/** Waits until `count` messages with this payload have arrived. */
export function untilPayloadCount<T>(
  collector: Collector<Message<T>>,
  payload: T,
  count: number,
): Promise<Message<T>[]> {
  return collector.until(
    (items) => items.filter((m) => m.payload === payload).length >= count,
    `${count} deliveries of ${JSON.stringify(payload)}`,
  );
}
