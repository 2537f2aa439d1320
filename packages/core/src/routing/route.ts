import type { BindingDeclaration, ExchangeType, Headers } from "../contract.js";
import { headersMatch } from "./headers-matcher.js";
import { topicMatches } from "./topic-matcher.js";

/** Whether one binding of an exchange of `type` takes a message. */
export function bindingMatches(
  type: ExchangeType,
  binding: Pick<BindingDeclaration, "routingKey" | "arguments">,
  routingKey: string,
  headers: Headers,
): boolean {
  switch (type) {
    case "direct":
      return binding.routingKey === routingKey;
    case "fanout":
      return true;
    case "topic":
      return topicMatches(binding.routingKey, routingKey);
    case "headers":
      return headersMatch(binding.arguments ?? {}, headers);
  }
}

/**
 * The queues that receive a message published to an exchange of `type` with
 * these bindings: each queue once, however many of its bindings match (as in
 * AMQP, where a queue gets one copy per message).
 */
export function route(
  type: ExchangeType,
  bindings: Iterable<BindingDeclaration>,
  routingKey: string,
  headers: Headers,
): string[] {
  const queues = new Set<string>();
  for (const binding of bindings) {
    if (!queues.has(binding.queue) && bindingMatches(type, binding, routingKey, headers)) {
      queues.add(binding.queue);
    }
  }
  return [...queues];
}
