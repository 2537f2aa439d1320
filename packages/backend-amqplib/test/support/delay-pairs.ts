import type { QueueDeclaration } from "@carrot/core/backend";
import amqplib from "amqplib";
import { DELAY_PREFIX } from "../../src/delay-topology.js";
import type { AmqplibBackend } from "../../src/index.js";

// biome-ignore lint/suspicious/noExplicitAny: TypeScript's rule for a class a mixin extends.
type BackendClass = new (...args: any[]) => AmqplibBackend;

/**
 * The suite's cases delay messages to exchanges of their own, named anew on
 * every run, and the delay queues and exchanges this makes stay behind on
 * the broker (carrot never deletes them: see the README's "Delayed
 * messages"). `Base` extended to note each delay pair it declares, and
 * `remove()` to delete those that are empty once the suite is done.
 */
export function delayPairsNoted<T extends BackendClass>(Base: T) {
  const declared = new Set<string>();
  class Noting extends Base {
    override declareQueue(queue: QueueDeclaration): Promise<void> {
      if (queue.name.startsWith(DELAY_PREFIX)) declared.add(queue.name);
      return super.declareQueue(queue);
    }
  }
  return {
    Backend: Noting,
    /** Deletes the noted delay pairs that hold no message (`ifEmpty`): one still holding some stays. */
    async remove(url: string): Promise<void> {
      const connection = await amqplib.connect(url);
      try {
        for (const name of declared) {
          const channel = await connection.createChannel();
          channel.on("error", () => {});
          try {
            await channel.deleteQueue(name, { ifEmpty: true });
            await channel.deleteExchange(name);
            await channel.close();
          } catch {
            // Not empty (PRECONDITION_FAILED closed the channel): left for its messages.
          }
        }
      } finally {
        await connection.close();
      }
    },
  };
}
