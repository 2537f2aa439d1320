import { decodeEntry, type StoredEntry } from "./message-codec.js";
import type { RedisClient } from "./redis-connector.js";

// ioredis 6's `call`/`callBuffer` lose the command name under auto-pipelining
// (it shifts the name off, then replays the rest on the pipeline), and the
// typed stream methods' overloads are too narrow for variable arguments; so
// the named *Buffer methods are called through this loose view.
interface LooseStreamCommands {
  xreadgroupBuffer(...args: (string | number)[]): Promise<[Buffer, [Buffer, Buffer[]][]][] | null>;
  xautoclaimBuffer(...args: (string | number)[]): Promise<[Buffer, [Buffer, Buffer[] | null][]]>;
  xrangeBuffer(...args: (string | number)[]): Promise<[Buffer, Buffer[]][]>;
  xpending(...args: (string | number)[]): Promise<[string, string, number, number][]>;
}

function loose(redis: RedisClient): LooseStreamCommands {
  return redis as unknown as LooseStreamCommands;
}

/** XREADGROUP of new entries (`>`), blocking up to `block` ms when given. */
export async function readGroup(
  redis: RedisClient,
  stream: string,
  group: string,
  consumer: string,
  count: number,
  block?: number,
): Promise<StoredEntry[]> {
  const args: (string | number)[] = ["GROUP", group, consumer, "COUNT", count];
  if (block !== undefined) args.push("BLOCK", block);
  const reply = await loose(redis).xreadgroupBuffer(...args, "STREAMS", stream, ">");
  return (reply?.[0]?.[1] ?? []).map(([id, fields]) => decodeEntry(id.toString(), fields));
}

/** XAUTOCLAIM: entries idle for `minIdle` ms, now owned by `consumer`; and the next cursor. */
export async function autoClaim(
  redis: RedisClient,
  stream: string,
  group: string,
  consumer: string,
  minIdle: number,
  cursor: string,
  count: number,
): Promise<{ cursor: string; entries: StoredEntry[] }> {
  const [next, claimed] = await loose(redis).xautoclaimBuffer(
    stream,
    group,
    consumer,
    minIdle,
    cursor,
    "COUNT",
    count,
  );
  return {
    cursor: next.toString(),
    // Entries deleted meanwhile come back without fields (Redis 7 drops them from the PEL).
    entries: claimed
      .filter((e): e is [Buffer, Buffer[]] => e[1] !== null)
      .map(([id, fields]) => decodeEntry(id.toString(), fields)),
  };
}

/** Ids the consumer owns in the group's pending-entries list (up to `count`). */
export async function pendingIds(
  redis: RedisClient,
  stream: string,
  group: string,
  consumer: string,
  count: number,
): Promise<string[]> {
  const pending = await loose(redis).xpending(stream, group, "-", "+", count, consumer);
  return pending.map(([id]) => id);
}

/** A read entry, with how many times Redis has delivered it (the PEL's count, this delivery included). */
export interface CountedEntry {
  /** The entry as read. */
  entry: StoredEntry;
  /** The PEL's delivery counter: 1 for a fresh read, 2 or more once reclaimed. */
  deliveries: number;
}

/**
 * Entries this consumer just claimed (XAUTOCLAIM), each with the
 * pending-entries list's delivery counter: XREADGROUP, XCLAIM and XAUTOCLAIM
 * count, XCLAIM JUSTID (a lease renewal) does not. One XPENDING per entry,
 * in one pipeline: reclaims are rare.
 */
export async function withDeliveryCounts(
  redis: RedisClient,
  stream: string,
  group: string,
  entries: StoredEntry[],
): Promise<CountedEntry[]> {
  if (entries.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const { id } of entries) pipeline.xpending(stream, group, id, id, 1);
  const replies = (await pipeline.exec()) ?? [];
  return entries.map((entry, i) => {
    const [error, reply] = replies[i] ?? [];
    if (error) throw error;
    const [pending] = (reply ?? []) as [string, string, number, number][];
    // No longer pending (deleted since the claim): a claimed entry was delivered twice at least.
    return { entry, deliveries: pending?.[3] ?? 2 };
  });
}

/** The first `count` entries of a stream, oldest first. */
export async function firstEntries(
  redis: RedisClient,
  key: string,
  count: number,
): Promise<StoredEntry[]> {
  const entries = await loose(redis).xrangeBuffer(key, "-", "+", "COUNT", count);
  return entries.map(([id, fields]) => decodeEntry(id.toString(), fields));
}
