import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import { DELAY_ATTRIBUTE, DUE_ATTRIBUTE } from "./delayed-delivery.js";
import { DELIVERIES_ATTRIBUTE, deliveryCount } from "./delivery-count.js";
import type { QueueInfo } from "./queue-directory.js";
import type { SendEntry } from "./sqs-batches.js";

/**
 * Copies of received messages, which carrot sends in place of a message it
 * received but did not deliver (a hold of a delayed message, a message a
 * cancelled consumer received after it stopped), then deletes the original.
 * Unlike making the original visible again, a copy does not count that
 * receive: it is a new SQS message, whose ApproximateReceiveCount starts
 * afresh, so it carries the deliveries of the original in
 * `carrot-deliveries` (delivery-count.ts), and its due time in `carrot-due`
 * (the copy's own SentTimestamp is later than the original's).
 */

/**
 * The bytes SQS counts for what a copy may add to a message: `carrot-due`
 * and `carrot-deliveries` at their longest (name, type, a 16-digit value);
 * more than the sender's `carrot-delay`, which the copy drops. Kept free in
 * every size check, so that a copy fits wherever its original did.
 */
export const COPY_RESERVE_BYTES =
  DUE_ATTRIBUTE.length + DELIVERIES_ATTRIBUTE.length + 2 * ("Number".length + 16);

/**
 * A received message, not delivered this time, as a SendEntry for its own
 * queue: same body and attributes, same fair-queue group, due at `due` if
 * given, and counting the deliveries it had.
 */
export function copyOf(
  info: QueueInfo,
  message: Message,
  holdSeconds: number,
  due?: number,
): SendEntry {
  const group = message.Attributes?.MessageGroupId;
  // This receive delivered nothing: it is not one of them.
  const deliveries = deliveryCount(message, holdSeconds) - 1;
  return {
    queue: info,
    body: message.Body ?? "",
    attributes: copiedAttributes(message, due, deliveries),
    ids: group === undefined ? {} : { MessageGroupId: group },
  };
}

/** The bytes SQS counts for an entry: body, and each attribute's name, type and value. */
export function entrySize({ body, attributes }: SendEntry): number {
  let size = Buffer.byteLength(body);
  for (const [name, { DataType = "", StringValue, BinaryValue }] of Object.entries(attributes)) {
    size += name.length + DataType.length;
    size +=
      StringValue !== undefined ? Buffer.byteLength(StringValue) : (BinaryValue?.byteLength ?? 0);
  }
  return size;
}

/** The message's attributes with carrot's delay and count ones replaced by the copy's. */
function copiedAttributes(
  message: Message,
  due: number | undefined,
  deliveries: number,
): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, { DataType, StringValue, BinaryValue }] of Object.entries(
    message.MessageAttributes ?? {},
  )) {
    if (name === DELAY_ATTRIBUTE || name === DUE_ATTRIBUTE || name === DELIVERIES_ATTRIBUTE)
      continue;
    attributes[name] = {
      DataType,
      ...(StringValue !== undefined ? { StringValue } : {}),
      ...(BinaryValue !== undefined ? { BinaryValue } : {}),
    };
  }
  if (due !== undefined) attributes[DUE_ATTRIBUTE] = number(due);
  if (deliveries > 0) attributes[DELIVERIES_ATTRIBUTE] = number(deliveries);
  return attributes;
}

function number(n: number): MessageAttributeValue {
  return { DataType: "Number", StringValue: String(n) };
}
