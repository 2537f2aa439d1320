import type { MessageProperties, RawMessage } from "@carrot/core/backend";
import type { Message, Options } from "amqplib";
import { fromTable, toTable } from "./header-table.js";

/**
 * carrot's RawMessage as plain AMQP basic properties, so that any AMQP client
 * reads what carrot sends: content type and encoding, headers in the headers
 * table, expiration as the string of milliseconds AMQP wants, timestamp in
 * seconds.
 */
export function publishOptions(message: RawMessage, mandatory: boolean): Options.Publish {
  const p = message.properties;
  return {
    mandatory,
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    headers: toTable(message.headers),
    deliveryMode: p.deliveryMode,
    priority: p.priority,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    expiration: p.expiration === undefined ? undefined : String(p.expiration),
    messageId: p.messageId,
    timestamp: p.timestamp === undefined ? undefined : Math.floor(p.timestamp.getTime() / 1000),
    type: p.type,
    appId: p.appId,
    userId: p.userId,
  };
}

/** A message from amqplib (delivered, fetched or returned) as carrot's RawMessage. */
export function rawMessage(message: Message): RawMessage {
  const p = message.properties;
  const properties: MessageProperties = {};
  if (p.messageId !== undefined) properties.messageId = String(p.messageId);
  if (p.correlationId !== undefined) properties.correlationId = String(p.correlationId);
  if (p.replyTo !== undefined) properties.replyTo = String(p.replyTo);
  if (p.priority !== undefined) properties.priority = Number(p.priority);
  if (p.expiration !== undefined) properties.expiration = Number(p.expiration);
  if (p.timestamp !== undefined) properties.timestamp = new Date(Number(p.timestamp) * 1000);
  if (p.type !== undefined) properties.type = String(p.type);
  if (p.appId !== undefined) properties.appId = String(p.appId);
  if (p.userId !== undefined) properties.userId = String(p.userId);
  if (p.deliveryMode === 1 || p.deliveryMode === 2) properties.deliveryMode = p.deliveryMode;
  const content = message.content;
  return {
    // A plain Uint8Array view of amqplib's Buffer: no copy.
    body: new Uint8Array(content.buffer, content.byteOffset, content.byteLength),
    contentType: p.contentType === undefined ? undefined : String(p.contentType),
    contentEncoding: p.contentEncoding === undefined ? undefined : String(p.contentEncoding),
    headers: fromTable(p.headers),
    properties,
  };
}

/** The body as a Buffer for amqplib, without copying. */
export function bodyBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
