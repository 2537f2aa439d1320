import type { Delivery, DeliveryInfo, RawMessage } from "@carrot/core/backend";
import type { SqsBackend } from "../src/index.js";
import { waitFor } from "./sqs-test-env.js";

// The backend's own interface, as core calls it: these tests read what the
// backend reports (delivery counts, groups) and send what core would send
// (delays), independently of core's handling of them.

/** A text message with no headers. */
export function text(body: string): RawMessage {
  return { body: Buffer.from(body), headers: {}, properties: {} };
}

/** Declares a plain durable queue. */
export function declare(
  backend: SqsBackend,
  name: string,
  args: Record<`x-${string}`, unknown> = {},
): Promise<void> {
  return backend.declareQueue({
    name,
    durable: true,
    exclusive: false,
    autoDelete: false,
    arguments: args,
  });
}

/** Publishes `body` to `queue` through the default exchange, as core does, with `delay` ms. */
export function send(
  backend: SqsBackend,
  queue: string,
  body: string,
  options: { delay?: number; groupId?: string } = {},
): Promise<void> {
  return backend.publish({
    exchange: "",
    routingKey: queue,
    message: text(body),
    mandatory: false,
    ...options,
  });
}

/** One delivery as the test saw it: when (this host's clock) and with which info. */
export interface Seen {
  body: string;
  at: number;
  info: DeliveryInfo;
  delivery: Delivery;
}

/**
 * Consumes `queue` until `count` deliveries arrived (failing after `ms`),
 * settling each with `settle` (ack by default); resolves once all are settled.
 */
export async function collect(
  backend: SqsBackend,
  queue: string,
  count: number,
  { ms = 20_000, settle = (d: Delivery) => d.ack() } = {},
): Promise<Seen[]> {
  const seen: Seen[] = [];
  const settled: Promise<void>[] = [];
  const all = waitFor<void>(`${count} deliveries from '${queue}'`, ms);
  const subscription = await backend.consume(
    queue,
    { prefetch: 10, noAck: false, exclusive: false, consumerTag: `test-${queue}` },
    (delivery) => {
      seen.push({
        body: Buffer.from(delivery.message.body).toString(),
        at: Date.now(),
        info: delivery.info,
        delivery,
      });
      settled.push(settle(delivery));
      if (seen.length === count) all.resolve();
    },
  );
  try {
    await all.promise;
  } finally {
    await subscription.cancel();
  }
  await Promise.all(settled);
  return seen;
}

/** Receives once with `get` until the queue gives nothing: what was left on it (acked). */
export async function drain(backend: SqsBackend, queue: string): Promise<string[]> {
  const left: string[] = [];
  for (
    let d = await backend.get(queue, { noAck: true });
    d;
    d = await backend.get(queue, { noAck: true })
  )
    left.push(Buffer.from(d.message.body).toString());
  return left;
}
