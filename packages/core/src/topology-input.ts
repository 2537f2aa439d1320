import {
  EXCHANGE_TYPES,
  type ExchangeDeclaration,
  type ExchangeType,
  QUEUE_TYPES,
  type QueueArguments,
  type QueueDeclaration,
} from "./contract.js";
import { InvalidOptionsError } from "./errors.js";
import { checkOptionNames, QUEUE_ARGUMENT_NAMES } from "./option-names.js";

/** How `Connection.declareQueue` and `declareExchange` declare: create, or only check. */
export interface PassiveOption {
  /**
   * Create nothing: only assert that it exists, `NotFoundError` if it does
   * not (AMQP's passive declare). Its other settings are not compared with
   * the existing one's. Needs a backend that can check without creating
   * (`UnsupportedFeatureError` otherwise). Default false.
   */
  passive?: boolean;
}

/**
 * An exchange as `Connection.declareExchange` takes it: a name, and any
 * settings that differ from carrot's defaults (type "direct", durable, not
 * auto-delete, no arguments); or `passive`.
 */
export type ExchangeInput = Pick<ExchangeDeclaration, "name"> &
  Partial<ExchangeDeclaration> &
  PassiveOption;
/**
 * A queue as `Connection.declareQueue` takes it: a name, and any settings
 * that differ from carrot's defaults (durable, not exclusive, not
 * auto-delete, no arguments); or `passive`.
 */
export type QueueInput = Pick<QueueDeclaration, "name"> & Partial<QueueDeclaration> & PassiveOption;

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
  const queue: QueueDeclaration = {
    name,
    durable: input.durable ?? true,
    exclusive: input.exclusive ?? false,
    autoDelete: input.autoDelete ?? false,
    arguments: checkQueueArguments(input.arguments ?? {}),
  };
  checkQueueType(queue);
  return queue;
}

export function checkExchangeType(type: string): ExchangeType {
  if (!(EXCHANGE_TYPES as readonly string[]).includes(type)) {
    throw new InvalidOptionsError(
      `exchange type '${type}' is not one of ${EXCHANGE_TYPES.join(", ")}`,
    );
  }
  return type as ExchangeType;
}

/**
 * A Consumer's or Publisher's `passive` and `declare`, checked together:
 * `passive` checks what `declare: false` leaves alone, so asking for both
 * is a mistake that would otherwise pick one without a word.
 */
export function checkDeclareMode(options: { passive?: boolean; declare?: boolean }): void {
  for (const name of ["passive", "declare"] as const) {
    const value: unknown = options[name];
    if (value !== undefined && typeof value !== "boolean")
      throw new InvalidOptionsError(`${name} must be true or false, got ${JSON.stringify(value)}`);
  }
  if (options.passive && options.declare === false) {
    throw new InvalidOptionsError(
      "passive: true checks that the topology exists and declare: false leaves it alone; give one of them",
    );
  }
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
  const named: Record<string, unknown> = {};
  for (const key in args) if (!key.startsWith("x-")) named[key] = args[key as keyof QueueArguments];
  checkOptionNames(named, QUEUE_ARGUMENT_NAMES, "in queueArguments");
  for (const key of ["messageTtl", "maxLength", "maxPriority", "deliveryLimit"] as const) {
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
  const size = args.initialGroupSize;
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
    throw new InvalidOptionsError(
      `queueArguments.initialGroupSize must be a whole number >= 1, got ${JSON.stringify(size)}`,
    );
  }
  if (
    args.queueType !== undefined &&
    !(QUEUE_TYPES as readonly string[]).includes(args.queueType)
  ) {
    throw new InvalidOptionsError(
      `queueArguments.queueType '${args.queueType}' is not one of ${QUEUE_TYPES.join(", ")}`,
    );
  }
  return { ...args };
}

/**
 * What a quorum queue cannot be, refused before the broker sees it: RabbitMQ
 * answers each with a PRECONDITION_FAILED that reads like a conflict with an
 * existing queue. The quorum-only arguments on another kind would be ignored.
 */
function checkQueueType(queue: QueueDeclaration): void {
  const { name, arguments: args } = queue;
  if (args.queueType !== "quorum") {
    for (const key of ["deliveryLimit", "initialGroupSize"] as const) {
      if (args[key] !== undefined) {
        throw new InvalidOptionsError(
          `queueArguments.${key} on queue '${name}' applies to quorum queues only; add queueType: "quorum"`,
        );
      }
    }
    return;
  }
  const refused = [
    !queue.durable && "durable: false",
    queue.exclusive && "exclusive",
    queue.autoDelete && "autoDelete",
    args.maxPriority !== undefined && "maxPriority",
  ].filter(Boolean);
  if (refused.length > 0) {
    throw new InvalidOptionsError(
      `quorum queue '${name}' cannot be ${refused.join(", ")}: a quorum queue is durable, shared and without priorities`,
    );
  }
}
