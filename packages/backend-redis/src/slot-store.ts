import type { RoutingDecision } from "@carrot/core/backend";
import { Cluster } from "ioredis";
import type { KeyLayout } from "./key-layout.js";
import type { ScriptedRedis } from "./lua-scripts.js";

/** One message to store in the queues of its route (checked already against the binding version). */
export interface SlotItem {
  route: RoutingDecision;
  /** Per-message TTL in ms, "" for none. */
  expiration: string;
  body: Buffer | string;
  envelope: string;
}

/** How one message's stores went, over all its queues' slots. */
export interface SlotOutcome {
  /** Queues that stored it. */
  stored: number;
  /** Queues whose slot refused it (Redis's error), with nothing stored there. */
  refused: string[];
  /** Queues where the outcome is not known: the node failed, or no replica confirmed in time. */
  unknown: unknown[];
}

/** Cluster replies that say the script did not run on that node: it is sent again. */
const NOT_RUN = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;
/** Sends of one slot's script after replies that say it did not run. */
const SLOT_ATTEMPTS = 50;
const SLOT_RETRY_MS = 100;

/** How stores across slots reach the cluster. */
export interface SlotStoreHost {
  readonly redis: ScriptedRedis;
  readonly keys: KeyLayout;
  /** Replicas each slot's store must reach (`WAIT`) before it counts (0: the master's word). */
  readonly replicas: number;
  /** Milliseconds `WAIT` may take. */
  readonly replicaTimeout: number;
  reportError(error: unknown): void;
}

/**
 * Stores messages in their queues on a Redis Cluster, where a fan-out's
 * queues are in different slots: one script per queue (each queue is a slot
 * of its own; a batch's messages to one queue go in one call), all sent at
 * once, then the queues with something to expire or dead-letter put on the
 * due set (the topology's slot). Each queue's store is atomic; a message's
 * stores in different queues are not: the caller confirms it only when every
 * one succeeded, so a failure between slots can make a retry duplicate into
 * the queues that did store it, never lose a confirmed message.
 */
export async function storeAcrossSlots(
  host: SlotStoreHost,
  items: readonly SlotItem[],
): Promise<SlotOutcome[]> {
  const outcomes = items.map((): SlotOutcome => ({ stored: 0, refused: [], unknown: [] }));
  const byQueue = new Map<string, number[]>();
  items.forEach(({ route }, i) => {
    for (const queue of route.queues) {
      const list = byQueue.get(queue);
      if (list) list.push(i);
      else byQueue.set(queue, [i]);
    }
  });
  const marks: string[] = [];
  await Promise.all(
    [...byQueue].map(async ([queue, indexes]) => {
      const reply = await storeInQueue(host, queue, indexes, items);
      if (!reply.ok) {
        for (const i of indexes) {
          const outcome = outcomes[i] as SlotOutcome;
          if (reply.refused !== undefined) outcome.refused.push(reply.refused);
          else outcome.unknown.push(reply.error);
        }
        return;
      }
      reply.results.forEach((result, j) => {
        const outcome = outcomes[indexes[j] as number] as SlotOutcome;
        if (typeof result === "number") outcome.stored += result;
        else outcome.refused.push(result);
      });
      marks.push(...reply.marks);
    }),
  );
  if (marks.length > 0) await markDue(host, marks);
  return outcomes;
}

type QueueReply =
  | { ok: true; results: (number | string)[]; marks: string[] }
  | { ok: false; refused?: string; error?: unknown };

/** One queue's script (and its `WAIT`), sent again while the cluster says it did not run. */
async function storeInQueue(
  host: SlotStoreHost,
  queue: string,
  indexes: readonly number[],
  items: readonly SlotItem[],
): Promise<QueueReply> {
  const { redis, keys, replicas, replicaTimeout } = host;
  const args: (string | Buffer)[] = [
    keys.queueMeta(queue),
    keys.stream(queue),
    keys.dead(queue),
    "1",
    queue,
  ];
  for (const i of indexes) {
    const { expiration, body, envelope } = items[i] as SlotItem;
    args.push(expiration, body, envelope, "1", "1");
  }
  for (let attempt = 1; ; attempt++) {
    const pipeline = redis.pipeline();
    (pipeline as unknown as ScriptedRedis).carrotSlotStore(3, ...args);
    if (replicas > 0) pipeline.wait(replicas, replicaTimeout);
    let replies: [Error | null, unknown][];
    try {
      replies = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
    } catch (error) {
      return { ok: false, error };
    }
    const [[error, reply] = [new Error("no reply")], waited] = replies;
    if (error) {
      const replyError = error.name === "ReplyError";
      if (replyError && NOT_RUN.test(error.message) && attempt < SLOT_ATTEMPTS) {
        // The slot moved, is moving, or its master is being replaced: nothing ran; ask again,
        // with the slot table read again when it moved (ioredis does so for single commands,
        // not for a pipeline whose WAIT succeeded beside the redirected script).
        if (error.message.startsWith("MOVED") && redis instanceof Cluster)
          redis.refreshSlotsCache();
        await new Promise((resolve) => setTimeout(resolve, SLOT_RETRY_MS));
        continue;
      }
      return replyError ? { ok: false, refused: error.message } : { ok: false, error };
    }
    if (waited && (waited[0] || Number(waited[1]) < replicas)) {
      return {
        ok: false,
        error:
          waited[0] ??
          new Error(
            `stored on the master of queue '${queue}', but ${waited[1]} of ${replicas} replicas had it within ${replicaTimeout} ms: a failover now could lose it`,
          ),
      };
    }
    const [results, marks] = reply as [(number | string)[], string[]];
    return { ok: true, results, marks };
  }
}

/** Puts queues on the due set (`ZADD LT`: an earlier mark stays); a failure is reported, the stores stand. */
async function markDue(host: SlotStoreHost, marks: readonly string[]): Promise<void> {
  const pipeline = host.redis.pipeline();
  for (let i = 0; i + 1 < marks.length; i += 2) {
    pipeline.zadd(host.keys.due(), "LT", marks[i + 1] as string, marks[i] as string);
  }
  try {
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  } catch (error) {
    // The messages are stored; their TTL still applies on read and at the queue's next sweep.
    host.reportError(error);
  }
}
