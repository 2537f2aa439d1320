import {
  type Delivery,
  newHeaders,
  type QueueArguments,
  type RawMessage,
} from "@carrot/core/backend";
import { MemoryBackend, MemoryBroker } from "../src/index.js";

// Backend-level helpers for the memory tests that drive the broker directly
// (delays, delivery counts): a connection to a broker of its own, and text
// messages in and out.

/** A connected backend to `broker` (by default a new private one). */
export async function connectTo(broker = new MemoryBroker()): Promise<MemoryBackend> {
  const backend = new MemoryBackend({ broker });
  await backend.connect();
  return backend;
}

/** Declares a plain queue (not durable, not exclusive, not auto-delete). */
export function declareQueue(
  backend: MemoryBackend,
  name: string,
  args: QueueArguments = {},
): Promise<void> {
  return backend.declareQueue({
    name,
    durable: false,
    exclusive: false,
    autoDelete: false,
    arguments: args,
  });
}

/** A message whose body is `text`. */
export function textMessage(text: string, properties: RawMessage["properties"] = {}): RawMessage {
  return { body: Buffer.from(text), headers: newHeaders(), properties };
}

/** The body of a delivery as text; undefined for none. */
export function textOf(delivery: Delivery | null | undefined): string | undefined {
  return delivery ? Buffer.from(delivery.message.body).toString() : undefined;
}

/** Every message ready on `queue` now, taken with noAck. */
export async function drain(backend: MemoryBackend, queue: string): Promise<string[]> {
  const texts: string[] = [];
  for (
    let d = await backend.get(queue, { noAck: true });
    d;
    d = await backend.get(queue, { noAck: true })
  )
    texts.push(textOf(d)!);
  return texts;
}
