import { InvalidOptionsError, type QueueDeclaration } from "@carrot/core/backend";
import type { Options } from "amqplib";

/** carrot's queue argument names; amqplib maps each to its `x-` argument (x-message-ttl, ...). */
const NAMED = [
  "deadLetterExchange",
  "deadLetterRoutingKey",
  "messageTtl",
  "maxLength",
  "maxPriority",
] as const;

/**
 * A queue declaration as amqplib's assertQueue options: the named carrot
 * arguments become x-dead-letter-exchange, x-dead-letter-routing-key,
 * x-message-ttl, x-max-length and x-max-priority; raw `x-` arguments
 * (x-queue-type: "quorum", x-overflow, x-expires ...) pass through as given.
 */
export function queueOptions(queue: QueueDeclaration): Options.AssertQueue {
  const raw: Record<string, unknown> = {};
  const options: Options.AssertQueue = {
    durable: queue.durable,
    exclusive: queue.exclusive,
    autoDelete: queue.autoDelete,
    arguments: raw,
  };
  for (const [key, value] of Object.entries(queue.arguments ?? {})) {
    if (value === undefined) continue;
    if ((NAMED as readonly string[]).includes(key))
      (options as Record<string, unknown>)[key] = value;
    else if (key.startsWith("x-")) raw[key] = value;
    else {
      throw new InvalidOptionsError(
        `unknown queue argument '${key}' for queue '${queue.name}'; use one of ${NAMED.join(", ")}, or a RabbitMQ 'x-' argument`,
      );
    }
  }
  return options;
}
