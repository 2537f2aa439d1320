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

/** AMQP carries names as short strings: at most 255 bytes of UTF-8. */
const MAX_NAME_BYTES = 255;

/**
 * A queue or exchange name that every backend keeps as written, so that
 * names port between backends. RabbitMQ (3.10, checked by the amqplib
 * tests) removes CR and LF from a name it declares, so "a\nb" is declared as
 * "ab" and every send to "a\nb" then fails or goes nowhere; a lone surrogate
 * is not UTF-8 and arrives changed; longer than 255 bytes does not fit.
 */
function checkName(kind: string, name: unknown): string {
  if (typeof name !== "string")
    throw new InvalidOptionsError(`${kind} name must be a string, got ${typeof name}`);
  const shown = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
  if (/[\r\n]/.test(name)) {
    throw new InvalidOptionsError(
      `${kind} name ${shown} holds a line break (CR or LF): RabbitMQ removes them from names, so nothing would reach it by this name`,
    );
  }
  if (/\p{Surrogate}/u.test(name))
    throw new InvalidOptionsError(`${kind} name ${shown} is not valid Unicode (a lone surrogate)`);
  // Only names that may be that long are measured.
  if (name.length > MAX_NAME_BYTES / 3 && Buffer.byteLength(name, "utf8") > MAX_NAME_BYTES) {
    throw new InvalidOptionsError(
      `${kind} name ${shown} is ${Buffer.byteLength(name, "utf8")} bytes of UTF-8; AMQP names hold at most ${MAX_NAME_BYTES}`,
    );
  }
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
