import { InvalidOptionsError, type QueueDeclaration } from "@carrot/core/backend";
import type { Options } from "amqplib";

/** Each carrot queue argument (core has checked the names and values) and RabbitMQ's name for it. */
const RABBITMQ_NAMES: Record<string, string> = {
  deadLetterExchange: "x-dead-letter-exchange",
  deadLetterRoutingKey: "x-dead-letter-routing-key",
  messageTtl: "x-message-ttl",
  maxLength: "x-max-length",
  maxPriority: "x-max-priority",
  queueType: "x-queue-type",
  deliveryLimit: "x-delivery-limit",
  initialGroupSize: "x-quorum-initial-group-size",
};

/**
 * A queue declaration as amqplib's assertQueue options: the carrot arguments
 * under their RabbitMQ names (queueType "quorum" is x-queue-type, deliveryLimit
 * x-delivery-limit, with which RabbitMQ dead-letters a message returned once
 * more than that); raw `x-` arguments (x-overflow, x-expires ...) pass through as
 * given. Both spellings of one argument are refused: which one wins would be
 * a guess.
 */
export function queueOptions(queue: QueueDeclaration): Options.AssertQueue {
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(queue.arguments)) {
    if (value !== undefined && key.startsWith("x-")) args[key] = value;
  }
  for (const [key, value] of Object.entries(queue.arguments)) {
    const raw = RABBITMQ_NAMES[key];
    if (value === undefined || raw === undefined) continue;
    if (raw in args) {
      throw new InvalidOptionsError(
        `queue '${queue.name}' has both ${key} and '${raw}' in its arguments; give one of them`,
      );
    }
    args[raw] = value;
  }
  return {
    durable: queue.durable,
    exclusive: queue.exclusive,
    autoDelete: queue.autoDelete,
    arguments: args,
  };
}
