import type { BindingDeclaration, ExchangeDeclaration, QueueDeclaration } from "../contract.js";
import { DeclarationConflictError } from "../errors.js";

/**
 * Redeclaring an exchange or a queue is idempotent when the settings are the
 * same, and an error when they differ (as RabbitMQ's PRECONDITION_FAILED),
 * rather than silently keeping one of the two.
 */
export function assertSameExchange(
  existing: ExchangeDeclaration,
  requested: ExchangeDeclaration,
): void {
  const differences = differing(
    {
      type: existing.type,
      durable: existing.durable,
      autoDelete: existing.autoDelete,
      arguments: existing.arguments ?? {},
    },
    {
      type: requested.type,
      durable: requested.durable,
      autoDelete: requested.autoDelete,
      arguments: requested.arguments ?? {},
    },
  );
  if (differences.length > 0) {
    throw new DeclarationConflictError(
      `exchange '${requested.name}' already exists with different ${differences.join(", ")}; ` +
        "declare it with the same settings, or delete it first",
    );
  }
}

/** The queue counterpart of {@link assertSameExchange}: durable, exclusive, autoDelete and every argument must match. */
export function assertSameQueue(existing: QueueDeclaration, requested: QueueDeclaration): void {
  const differences = differing(
    {
      durable: existing.durable,
      exclusive: existing.exclusive,
      autoDelete: existing.autoDelete,
      arguments: existing.arguments,
    },
    {
      durable: requested.durable,
      exclusive: requested.exclusive,
      autoDelete: requested.autoDelete,
      arguments: requested.arguments,
    },
  );
  if (differences.length > 0) {
    throw new DeclarationConflictError(
      `queue '${requested.name}' already exists with different ${differences.join(", ")}; ` +
        "declare it with the same settings, or delete it first",
    );
  }
}

/** Two bindings are the same binding when queue, exchange, key and arguments are equal. */
export function sameBinding(a: BindingDeclaration, b: BindingDeclaration): boolean {
  return (
    a.queue === b.queue &&
    a.exchange === b.exchange &&
    a.routingKey === b.routingKey &&
    canonical(a.arguments ?? {}) === canonical(b.arguments ?? {})
  );
}

function differing(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return Object.keys(a).filter((key) => canonical(a[key]) !== canonical(b[key]));
}

/** A stable text form for comparison: object keys sorted, undefined members dropped. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, x]) => x !== undefined)
            .sort(([x], [y]) => (x < y ? -1 : 1)),
        )
      : v,
  );
}
