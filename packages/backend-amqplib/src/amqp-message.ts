import { newHeaders, propertiesFromJson, type RawMessage } from "@carrot/core/backend";
import type { Message, Options } from "amqplib";
import { restoreHistory } from "./delay-history.js";
import { fromTable, headersTable } from "./header-table.js";

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
    headers: headersTable(message.headers),
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

/**
 * A message from amqplib (delivered, fetched or returned) as carrot's
 * RawMessage. Another client may have written anything the protocol
 * carries: what carrot cannot read makes the message `unreadable` (core
 * rejects and reports it), never an exception in the delivery path. The
 * traces of a delay queue are taken off, and the history it hid put back.
 */
export function rawMessage(message: Message): RawMessage {
  const p = message.properties;
  const content = message.content;
  // A plain Uint8Array view of amqplib's Buffer: no copy.
  const body = new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
  try {
    return {
      body,
      contentType: p.contentType === undefined ? undefined : String(p.contentType),
      contentEncoding: p.contentEncoding === undefined ? undefined : String(p.contentEncoding),
      // A delayed message arrives with the headers it was sent with (see delay-history.ts).
      headers: restoreHistory(fromTable(p.headers)),
      properties: propertiesFromJson({
        messageId: optionalString(p.messageId),
        correlationId: optionalString(p.correlationId),
        replyTo: optionalString(p.replyTo),
        priority: p.priority,
        // AMQP carries the expiration as a string of milliseconds and the timestamp in seconds.
        expiration: p.expiration === undefined ? undefined : Number(p.expiration),
        timestamp: p.timestamp === undefined ? undefined : Number(p.timestamp) * 1000,
        type: optionalString(p.type),
        appId: optionalString(p.appId),
        userId: optionalString(p.userId),
        deliveryMode: p.deliveryMode === 1 || p.deliveryMode === 2 ? p.deliveryMode : undefined,
      }),
    };
  } catch (error) {
    return { body, headers: newHeaders(), properties: {}, unreadable: error as Error };
  }
}

/** amqplib gives short strings as strings, but a field another client left out may be anything. */
function optionalString(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

/** The body as a Buffer for amqplib, without copying. */
export function bodyBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
