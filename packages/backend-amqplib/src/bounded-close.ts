import { settledWithin } from "@carrot/core/backend";
import type { ChannelModel } from "amqplib";
import { socketOf } from "./amqp-socket.js";

/** An amqplib channel or connection. */
interface Closable {
  close(): Promise<void>;
  once(event: "close", listener: () => void): unknown;
}

/**
 * Closes an amqplib channel or connection without waiting forever: in amqplib
 * 2.3.1, `close()` never settles when the socket dies before the broker's
 * close-ok arrives, nor for a channel whose connection closed first, and a
 * reconnect that awaited it would stop for good. Its 'close' event ends the
 * wait too (the connection's close closed the channel); after `ms` the close
 * is abandoned (the dead socket has released it anyway). Until then its timer
 * keeps the process alive.
 */
export function boundedClose(closable: Closable | undefined, ms = 2000): Promise<void> {
  if (!closable) return Promise.resolve();
  let closing: Promise<void>;
  try {
    closing = closable.close();
  } catch {
    return Promise.resolve(); // already closed
  }
  const closed = new Promise<void>((resolve) => closable.once("close", () => resolve()));
  return settledWithin(Promise.race([closing, closed]), ms);
}

/**
 * `boundedClose` of a connection, then, as long again at most, until its
 * socket has closed (the broker answers amqplib's end with its own): an open
 * socket keeps the process alive, so one still open then is destroyed.
 */
export async function boundedCloseConnection(
  model: ChannelModel | undefined,
  ms = 2000,
): Promise<void> {
  const socket = model && socketOf(model);
  if (!socket || socket.destroyed) return boundedClose(model, ms);
  // Listened for before the close starts: 'close' comes a turn after `closed` turns true.
  const socketClosed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await boundedClose(model, ms);
  await settledWithin(socketClosed, ms);
  socket.destroy();
}
