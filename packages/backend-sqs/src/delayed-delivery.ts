import type {
  Message,
  MessageAttributeValue,
  MessageSystemAttributeName,
} from "@aws-sdk/client-sqs";

/**
 * Delayed delivery on SQS.
 *
 * A standard queue delays a message itself, by whole seconds, up to 15
 * minutes (`DelaySeconds`). Anything else (a longer delay, any delay on a
 * FIFO queue, which takes no per-message delay) is carried by the message:
 * - `carrot-delay` (Number): milliseconds after the copy's `SentTimestamp`,
 *   written by the sender. The due time is then on SQS's own clock, counted
 *   from when SQS took the message, whatever the sender's clock says;
 * - `carrot-due` (Number): the due time itself, epoch milliseconds on SQS's
 *   clock, written on the copy that a hold re-sends (its own SentTimestamp
 *   is later than the original's).
 * A message received before it is due is not delivered but held back
 * (message-holds.ts).
 *
 * Whether it is due: on the first receive of a copy, SQS's own timestamp of
 * that receive (`ApproximateFirstReceiveTimestamp`) against the due time,
 * both on SQS's clock, so no host's clock is involved. A copy whose first
 * receive was due is due on every later receive. A copy received before it
 * was due and received again (it was held by visibility, or its hold failed)
 * is judged by this process's clock, which must then agree with SQS's (NTP).
 */

/** SQS's longest per-message `DelaySeconds`: 15 minutes. */
export const MAX_DELAY_SECONDS = 900;
/**
 * The longest a hold keeps a message invisible: SQS grants at most 12 hours
 * of visibility from a receive, and the request asking for it comes a little
 * after the receive; a minute is left for that.
 */
export const MAX_HOLD_SECONDS = 43_200 - 60;

/** Milliseconds after the copy's SentTimestamp when it is due (set by the sender). */
export const DELAY_ATTRIBUTE = "carrot-delay";
/** When the copy is due, epoch milliseconds on SQS's clock (set on a copy a hold re-sent). */
export const DUE_ATTRIBUTE = "carrot-due";

/** The system attributes every receive asks for: the counts and times read here, and the group. */
export const RECEIVE_SYSTEM_ATTRIBUTES: MessageSystemAttributeName[] = [
  "ApproximateReceiveCount",
  "ApproximateFirstReceiveTimestamp",
  "SentTimestamp",
  "MessageGroupId",
];

/** How one send carries its delay: SQS's own `DelaySeconds`, the `carrot-delay` attribute, or both. */
export interface DelayOnWire {
  /** The entry's `DelaySeconds` (standard queues). */
  delaySeconds?: number;
  /** The `carrot-delay` attribute: the whole delay, in milliseconds after SentTimestamp. */
  attribute?: MessageAttributeValue;
}

/**
 * The delay of one send to one queue. A standard queue takes up to
 * `maxNativeDelay` seconds itself, rounded up to whole seconds (never
 * early); a longer delay is that much natively and the rest by holds. A
 * FIFO queue takes no per-message delay: all of it by holds.
 */
export function delayOnWire(delayMs: number, fifo: boolean, maxNativeDelay: number): DelayOnWire {
  if (!fifo && delayMs <= maxNativeDelay * 1000) return { delaySeconds: Math.ceil(delayMs / 1000) };
  const attribute = { DataType: "Number", StringValue: String(delayMs) };
  return fifo ? { attribute } : { delaySeconds: maxNativeDelay, attribute };
}

/**
 * When a received message is due, epoch milliseconds on SQS's clock; undefined
 * when it is due at once (sent without a delay, or with one SQS applied
 * itself). An attribute that does not read as a number (another client's)
 * is no delay.
 */
export function dueTime(message: Message): number | undefined {
  const attributes = message.MessageAttributes;
  if (attributes === undefined) return undefined;
  const due = attributes[DUE_ATTRIBUTE]?.StringValue;
  if (due !== undefined) return finite(Number(due));
  const delay = attributes[DELAY_ATTRIBUTE]?.StringValue;
  if (delay === undefined) return undefined;
  return finite(Number(message.Attributes?.SentTimestamp) + Number(delay));
}

/**
 * Milliseconds until a received message is due (0 or less: it is). See the
 * module comment for which clock says so.
 */
export function remainingDelay(message: Message, due: number, now: number): number {
  const first = Number(message.Attributes?.ApproximateFirstReceiveTimestamp);
  if (!Number.isFinite(first)) return due - now;
  if (first >= due) return 0;
  return receiveCount(message) <= 1 ? due - first : due - now;
}

/** What to do with the messages of one receive. */
export interface Arrivals {
  /** Due: deliver them. */
  ready: Message[];
  /** Not yet due: hold each back for `remainingMs`. */
  early: { message: Message; remainingMs: number }[];
  /**
   * FIFO: due, but behind an early one of their group in the same receive:
   * delivering them would break the group's order, so they go back.
   */
  behind: Message[];
}

/**
 * Sorts one receive's messages. Without a delayed message among them (the
 * common case) they are all ready, and returned as they are.
 */
export function sortArrivals(messages: Message[], fifo: boolean, now: number): Arrivals {
  if (!messages.some((message) => dueTime(message) !== undefined))
    return { ready: messages, early: [], behind: [] };
  const arrivals: Arrivals = { ready: [], early: [], behind: [] };
  const heldGroups = new Set<string | undefined>();
  for (const message of messages) {
    const group = message.Attributes?.MessageGroupId;
    const due = dueTime(message);
    const remainingMs = due === undefined ? 0 : remainingDelay(message, due, now);
    if (remainingMs > 0) {
      arrivals.early.push({ message, remainingMs });
      if (fifo) heldGroups.add(group);
    } else if (fifo && heldGroups.has(group)) {
      arrivals.behind.push(message);
    } else {
      arrivals.ready.push(message);
    }
  }
  return arrivals;
}

/** SQS's ApproximateReceiveCount of a received message (1 if it says none). */
export function receiveCount(message: Message): number {
  return Number(message.Attributes?.ApproximateReceiveCount ?? "1") || 1;
}

function finite(n: number): number | undefined {
  return Number.isFinite(n) ? n : undefined;
}
