import { createHash } from "node:crypto";
import type {
  BindingDeclaration,
  ExchangeDeclaration,
  QueueDeclaration,
} from "@carrot/core/backend";

/** What every delay exchange and queue name starts with. */
export const DELAY_PREFIX = "carrot.delay.";

/** RabbitMQ's name for the default exchange (""), used in delay names; no one can declare an `amq.` exchange, so it is no one else's. */
const DEFAULT_EXCHANGE_NAME = "amq.default";

/** RabbitMQ's limit on exchange and queue names, in UTF-8 bytes. */
const MAX_NAME_BYTES = 255;

/** Hex digits of the SHA-256 that stand for the cut part of a long exchange name. */
const HASH_DIGITS = 16;

/**
 * The exchange and queue that hold messages for one target exchange and one
 * delay level. Messages are published to the fanout exchange with their own
 * routing key; the queue keeps each one `level` ms (`x-message-ttl`) and then
 * dead-letters it to the target exchange with that routing key (no
 * `x-dead-letter-routing-key`), which routes it as if it had been sent then.
 * One level per queue, so a queue's messages all expire in arrival order
 * and a short delay never waits behind a long one.
 */
export interface DelayPair {
  /** The fanout exchange delayed messages are published to. */
  readonly exchange: ExchangeDeclaration;
  /** The durable classic queue that holds them: same name as the exchange. */
  readonly queue: QueueDeclaration;
  /** The exchange's one binding, to the queue. */
  readonly binding: BindingDeclaration;
}

/**
 * The delay pair for messages to `target` (an exchange; "" the default
 * exchange) that wait `level` ms. Named `carrot.delay.<exchange>.<level>ms`,
 * with `amq.default` for the default exchange; a name that would pass
 * RabbitMQ's 255 bytes keeps the start of the exchange's name and puts a
 * hash of the whole name after it (`carrot.delay.<start>~<hash>.<level>ms`).
 * Not `x-expires`: a queue that expires with messages in it loses them.
 */
export function delayPair(target: string, level: number): DelayPair {
  const name = delayName(target, level);
  return {
    exchange: { name, type: "fanout", durable: true, autoDelete: false },
    queue: {
      name,
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: { queueType: "classic", messageTtl: level, deadLetterExchange: target },
    },
    binding: { queue: name, exchange: name, routingKey: "" },
  };
}

/** The name of the delay exchange and queue of `target` and `level` (see {@link delayPair}). */
export function delayName(target: string, level: number): string {
  const suffix = `.${level}ms`;
  const exchange = target === "" ? DEFAULT_EXCHANGE_NAME : target;
  const room = MAX_NAME_BYTES - byteLength(DELAY_PREFIX) - byteLength(suffix);
  if (byteLength(exchange) <= room) return `${DELAY_PREFIX}${exchange}${suffix}`;
  const hash = createHash("sha256").update(exchange).digest("hex").slice(0, HASH_DIGITS);
  return `${DELAY_PREFIX}${utf8Prefix(exchange, room - 1 - HASH_DIGITS)}~${hash}${suffix}`;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** The longest start of `text` that fits `bytes` UTF-8 bytes, never cutting a character. */
function utf8Prefix(text: string, bytes: number): string {
  let end = 0;
  let used = 0;
  for (const char of text) {
    used += byteLength(char);
    if (used > bytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}
