import { createHash } from "node:crypto";
import { InvalidOptionsError } from "@carrot/core/backend";

/** SQS allows 80 characters of [A-Za-z0-9_-], plus the ".fifo" suffix of FIFO queues within them. */
const MAX_LENGTH = 80;
const FIFO_SUFFIX = ".fifo";
const PLAIN = /^[A-Za-z0-9-]$/;
const LONE_SURROGATE = /\p{Surrogate}/u;
/** Longest prefix accepted: leaves room for an escaped name and its hash. */
export const MAX_PREFIX_LENGTH = 40;

/**
 * Maps a carrot queue name to an SQS queue name, one to one:
 * - letters, digits and "-" stay as they are;
 * - any other character (including "_" itself) becomes "_" and the two
 *   lowercase hex digits of each of its UTF-8 bytes ("a.b" -> "a_2eb");
 * - a trailing ".fifo" stays ".fifo" (a FIFO queue);
 * - when prefix + name + suffix would pass 80 characters, the name is cut and
 *   "_h" and 12 characters of the SHA-256 of the original name are appended.
 *   Escapes never produce "_h", so a cut name never equals an uncut one; two
 *   cut names could only meet on a hash collision, which declareQueue detects
 *   (the queue's tags hold the carrot name) and refuses.
 */
export function sqsQueueName(name: string, prefix: string): string {
  if (typeof name !== "string" || name === "") {
    throw new InvalidOptionsError(
      "an SQS queue needs a name: server-named queues ('') do not exist on SQS",
    );
  }
  if (LONE_SURROGATE.test(name))
    throw new InvalidOptionsError(`queue name ${JSON.stringify(name)} is not valid Unicode`);
  const fifo = name.endsWith(FIFO_SUFFIX);
  const base = fifo ? name.slice(0, -FIFO_SUFFIX.length) : name;
  if (base === "")
    throw new InvalidOptionsError(`queue name '${name}' has nothing before its .fifo suffix`);
  const suffix = fifo ? FIFO_SUFFIX : "";
  const escaped = escapeName(base);
  if (prefix.length + escaped.length + suffix.length <= MAX_LENGTH)
    return prefix + escaped + suffix;
  const hash = `_h${createHash("sha256").update(name).digest("base64url").slice(0, 12)}`;
  const room = MAX_LENGTH - prefix.length - suffix.length - hash.length;
  return prefix + escaped.slice(0, room) + hash + suffix;
}

/**
 * The queue a consumer's failure policy keeps the messages that failed every
 * attempt in: `<queue>-failed`, and `<base>-failed.fifo` for a FIFO queue
 * (its messages keep their group there). Not core's `<queue>.failed`: on SQS
 * a FIFO queue's name must end in `.fifo`, and "." would be escaped
 * (`orders_2efailed`). Its SQS name is made like any other: past 80
 * characters (prefix included) it is cut and hashed, so it never meets the
 * source queue's name.
 */
export function failedQueueName(queue: string): string {
  return isFifoName(queue)
    ? `${queue.slice(0, -FIFO_SUFFIX.length)}-failed${FIFO_SUFFIX}`
    : `${queue}-failed`;
}

export function isFifoName(name: string): boolean {
  return name.endsWith(FIFO_SUFFIX);
}

/** A prefix is used verbatim, so it must already be a valid SQS name fragment. */
export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(prefix) || prefix.length > MAX_PREFIX_LENGTH) {
    throw new InvalidOptionsError(
      `the SQS queue-name prefix must be at most ${MAX_PREFIX_LENGTH} characters of A-Z, a-z, 0-9, '_' and '-', got ${JSON.stringify(prefix)}`,
    );
  }
  return prefix;
}

function escapeName(name: string): string {
  let out = "";
  for (const char of name) {
    if (PLAIN.test(char)) out += char;
    else
      for (const byte of Buffer.from(char, "utf8")) out += `_${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}
