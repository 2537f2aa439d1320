import { createHash } from "node:crypto";
import {
  type BindingDeclaration,
  type ExchangeType,
  headersFromJson,
  headersToJson,
  InvalidOptionsError,
  type QueueDeclaration,
} from "@carrot/core/backend";

/**
 * The carrot facts kept on an SQS queue, as queue tags every process can read:
 * - `carrot:queue:<i>`: the queue's carrot declaration (its carrot name,
 *   arguments, flags);
 * - `carrot:bind:<hash>:<i>`: one binding of the queue to an exchange, with
 *   the exchange's type so that a publisher elsewhere can route.
 * Values are base64url JSON (tag values allow few characters), cut into
 * 256-character chunks numbered <i>. SQS allows 50 tags per queue: a
 * declaration and ~45 short bindings.
 */
const QUEUE_TAG = "carrot:queue:";
const BIND_TAG = "carrot:bind:";
const CHUNK = 256;
export const MAX_TAGS = 50;

export interface TaggedBinding extends BindingDeclaration {
  exchangeType: ExchangeType;
}

export interface QueueTags {
  declaration?: QueueDeclaration;
  bindings: TaggedBinding[];
}

export function declarationTags(declaration: QueueDeclaration): Record<string, string> {
  return chunked(QUEUE_TAG, declaration);
}

export function bindingTags(
  binding: BindingDeclaration,
  exchangeType: ExchangeType,
): Record<string, string> {
  const value = {
    e: binding.exchange,
    t: exchangeType,
    k: binding.routingKey,
    a: binding.arguments ? headersToJson(binding.arguments) : undefined,
  };
  return chunked(`${BIND_TAG}${bindingId(binding)}:`, value);
}

/** The tag keys of a binding, whatever its exchange type: what UntagQueue removes. */
export function bindingTagKeys(
  binding: BindingDeclaration,
  tags: Record<string, string>,
): string[] {
  const prefix = `${BIND_TAG}${bindingId(binding)}:`;
  return Object.keys(tags).filter((key) => key.startsWith(prefix));
}

export function parseQueueTags(tags: Record<string, string> | undefined): QueueTags {
  const groups = new Map<string, string[]>();
  for (const [key, value] of Object.entries(tags ?? {})) {
    const cut = key.lastIndexOf(":");
    if (!key.startsWith("carrot:") || cut < 0) continue;
    const group = key.slice(0, cut + 1);
    const parts = groups.get(group) ?? [];
    parts[Number(key.slice(cut + 1))] = value;
    groups.set(group, parts);
  }
  const result: QueueTags = { bindings: [] };
  for (const [group, parts] of groups) {
    const value = decode(parts);
    if (value === undefined) continue;
    if (group === QUEUE_TAG) {
      result.declaration = value as QueueDeclaration;
    } else if (group.startsWith(BIND_TAG)) {
      result.bindings.push(bindingOf(value));
    }
  }
  if (result.declaration)
    for (const binding of result.bindings) binding.queue = result.declaration.name;
  return result;
}

function bindingOf(value: unknown): TaggedBinding {
  const v = value as { e: string; t: ExchangeType; k: string; a?: Record<string, never> };
  return {
    queue: "",
    exchange: v.e,
    exchangeType: v.t,
    routingKey: v.k,
    ...(v.a ? { arguments: headersFromJson(v.a) } : {}),
  };
}

/** Same binding, same id: exchange, key and arguments (not the queue: the tags are on it). */
function bindingId(binding: BindingDeclaration): string {
  const identity = JSON.stringify([
    binding.exchange,
    binding.routingKey,
    binding.arguments ? headersToJson(binding.arguments) : null,
  ]);
  return createHash("sha256").update(identity).digest("base64url").slice(0, 16);
}

function chunked(prefix: string, value: unknown): Record<string, string> {
  const encoded = Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
  const count = Math.ceil(encoded.length / CHUNK);
  if (count > 10) {
    throw new InvalidOptionsError(
      `cannot keep ${prefix.slice(0, -1)} in SQS queue tags: ${encoded.length} characters is too long; use shorter names or arguments`,
    );
  }
  const tags: Record<string, string> = {};
  for (let i = 0; i < count; i++) tags[`${prefix}${i}`] = encoded.slice(i * CHUNK, (i + 1) * CHUNK);
  return tags;
}

function decode(parts: string[]): unknown {
  // A chunk missing: a write in progress elsewhere (holes are skipped by some(), hence the loop).
  for (let i = 0; i < parts.length; i++) if (parts[i] === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(parts.join(""), "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}
