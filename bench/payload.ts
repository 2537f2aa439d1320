import { Connection, type Consumer, Publisher, type PublisherOptions } from "@carrot/core";
import { type Sample, startClock } from "./compare.js";

/** A JSON payload whose encoding is exactly `size` bytes, numbered so that each is distinct. */
export function payloadOfSize(size: number, n: number): { id: number; data: string } {
  const empty = JSON.stringify({ id: n, data: "" }).length;
  return { id: n, data: "x".repeat(Math.max(0, size - empty)) };
}

/**
 * Sends `count` messages pipelined as an application would: `window` sends
 * in flight at once, the next window after those are all confirmed.
 */
export async function sendInWindows(
  count: number,
  window: number,
  send: (n: number) => Promise<unknown>,
): Promise<void> {
  for (let start = 0; start < count; start += window) {
    const sends: Promise<unknown>[] = [];
    for (let n = start; n < Math.min(count, start + window); n++) sends.push(send(n));
    await Promise.all(sends);
  }
}

/**
 * The time and CPU carrot takes to send `count` messages of `size` bytes
 * through a new connection to `url`, `window` in flight. Not timed, as a raw
 * side's set-up is not: connecting, and one send first, which opens what a
 * Publisher opens on its first send (an AMQP publish channel, the route).
 */
export async function timeCarrotSends(
  url: string,
  options: PublisherOptions,
  count: number,
  window: number,
  size: number,
): Promise<Sample> {
  const connection = new Connection(url);
  const publisher = new Publisher(connection, options);
  await connection.connect();
  await publisher.send(payloadOfSize(size, 0));
  const stop = startClock();
  await sendInWindows(count, window, (n) => publisher.send(payloadOfSize(size, n)));
  const sample = stop();
  await connection.close();
  return sample;
}

/**
 * The time and CPU of `count` messages of `size` bytes sent by `publisher`
 * (`window` in flight) and consumed by `consumer` (its callbacks registered,
 * its queue declared), until the last is handled; then the connection closes.
 */
export async function timeRoundTrip(
  connection: Connection,
  publisher: Publisher,
  consumer: Pick<Consumer, "wait">,
  { count, window, size }: { count: number; window: number; size: number },
): Promise<Sample> {
  const stop = startClock();
  const consumed = consumer.wait({ limit: count });
  await sendInWindows(count, window, (n) => publisher.send(payloadOfSize(size, n)));
  await consumed;
  const sample = stop();
  await connection.close();
  return sample;
}
