import {
  EXCHANGE_TYPES,
  type ExchangeDeclaration,
  type ExchangeType,
  type QueueArguments,
  type QueueDeclaration,
} from "./contract.js";
import { InvalidOptionsError } from "./errors.js";

/** What applications pass: a name, and any settings that differ from carrot's defaults. */
export type ExchangeInput = Pick<ExchangeDeclaration, "name"> & Partial<ExchangeDeclaration>;
export type QueueInput = Pick<QueueDeclaration, "name"> & Partial<QueueDeclaration>;

export function exchangeDeclaration(input: ExchangeInput): ExchangeDeclaration {
  return {
    name: checkName("exchange", input.name),
    type: checkExchangeType(input.type ?? "direct"),
    durable: input.durable ?? true,
    autoDelete: input.autoDelete ?? false,
    ...(input.arguments ? { arguments: input.arguments } : {}),
  };
}

export function queueDeclaration(input: QueueInput): QueueDeclaration {
  const name = checkName("queue", input.name);
  if (name === "") throw new InvalidOptionsError("a queue needs a name");
  return {
    name,
    durable: input.durable ?? true,
    exclusive: input.exclusive ?? false,
    autoDelete: input.autoDelete ?? false,
    arguments: checkQueueArguments(input.arguments ?? {}),
  };
}

export function checkExchangeType(type: string): ExchangeType {
  if (!(EXCHANGE_TYPES as readonly string[]).includes(type)) {
    throw new InvalidOptionsError(
      `exchange type '${type}' is not one of ${EXCHANGE_TYPES.join(", ")}`,
    );
  }
  return type as ExchangeType;
}

function checkName(kind: string, name: unknown): string {
  if (typeof name !== "string")
    throw new InvalidOptionsError(`${kind} name must be a string, got ${typeof name}`);
  return name;
}

function checkQueueArguments(args: QueueArguments): QueueArguments {
  for (const key of ["messageTtl", "maxLength", "maxPriority"] as const) {
    const value = args[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new InvalidOptionsError(
        `queueArguments.${key} must be a whole number >= 0, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (args.maxPriority !== undefined && args.maxPriority > 255) {
    throw new InvalidOptionsError(
      `queueArguments.maxPriority must be at most 255, got ${args.maxPriority}`,
    );
  }
  return { ...args };
}
