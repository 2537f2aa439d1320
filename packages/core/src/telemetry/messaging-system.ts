/**
 * `messaging.system` for a backend, by its URL scheme or its name: the
 * OpenTelemetry conventions' own value where there is one (rabbitmq,
 * aws_sqs), else the broker's name (redis), and `memory` for the
 * in-process broker. A third-party backend is known by its own name.
 */
const SYSTEMS = new Map([
  ["amqp", "rabbitmq"],
  ["amqps", "rabbitmq"],
  ["amqplib", "rabbitmq"],
  ["redis", "redis"],
  ["rediss", "redis"],
  ["redis+cluster", "redis"],
  ["rediss+cluster", "redis"],
  ["sqs", "aws_sqs"],
  ["memory", "memory"],
  ["nats", "nats"],
]);

/** The `messaging.system` of a backend named `name` or reached by the URL scheme `name`. */
export function messagingSystem(name: string): string {
  return SYSTEMS.get(name.toLowerCase()) ?? name;
}
