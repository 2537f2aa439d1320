import { backoffDelay, DEFAULT_RECONNECT_POLICY, type PrefetchWindow } from "@carrot/core/backend";
import type { KeyLayout } from "./key-layout.js";
import { blockingReply } from "./liveness.js";
import type { ScriptedRedis } from "./lua-scripts.js";
import type { StoredEntry } from "./message-codec.js";
import type { RedisClient } from "./redis-connector.js";
import { autoClaim, pendingIds, readGroup, withDeliveryCounts } from "./stream-reads.js";

/** Entries read per call when prefetch is unlimited. */
const UNLIMITED_BATCH = 100;

export interface SubscriptionHost {
  readonly command: ScriptedRedis;
  readonly keys: KeyLayout;
  readonly visibilityTimeout: number;
  readonly claimInterval: number;
  /** Milliseconds; a blocking read unanswered two of them past its block time has a dead connection (0: never). */
  readonly heartbeat: number;
  /**
   * Hands an entry to the application; a held delivery takes a place in the
   * window. `deliveries`: the PEL's count for it, this delivery included.
   */
  deliver(entry: StoredEntry, deliveries: number): void;
  /** Ids this process holds for the consumer, settling ones included (they are not orphans). */
  heldIds(): Set<string>;
  reportError(error: unknown): void;
}

/**
 * One consumer of one queue: a loop on a Redis connection of its own that
 * blocks in XREADGROUP (no polling) for at most the free prefetch, and
 * between reads reclaims entries other consumers left idle past the
 * visibility timeout (XAUTOCLAIM). After the connection drops it returns its
 * orphans (entries read whose reply was lost) to the queue and resumes.
 */
export class StreamSubscription {
  readonly stream: string;
  /** Wakes a pause or a wait for the blocking connection (cancel). */
  #wake?: () => void;
  #claimCursor = "0-0";
  #nextClaim = 0;
  #loop?: Promise<void>;
  #reconnected = false;

  constructor(
    readonly host: SubscriptionHost,
    readonly blocking: RedisClient,
    readonly queue: string,
    readonly consumer: string,
    /** Its prefetch; cancelled with the subscription. */
    readonly window: PrefetchWindow,
  ) {
    this.stream = host.keys.stream(queue);
  }

  start(): void {
    // A read cut off by a reconnect may have taken entries whose reply was
    // lost: this consumer owns them in Redis but never saw them.
    this.blocking.on("ready", () => {
      this.#reconnected = true;
    });
    this.#loop = this.#run();
  }

  async cancel(): Promise<void> {
    if (this.window.cancelled) return;
    this.window.cancel();
    this.#wake?.();
    // Ends a blocked XREADGROUP at once; a reply lost this way leaves orphans, returned below.
    this.blocking.disconnect();
    await this.#loop;
    await this.#returnOrphans().catch((error: unknown) => this.host.reportError(error));
  }

  async #run(): Promise<void> {
    let recovering = false;
    let failedInARow = 0;
    while (!this.window.cancelled) {
      try {
        if (recovering || this.#reconnected) {
          this.#reconnected = false;
          recovering = false;
          await this.#returnOrphans();
        }
        const room = await this.#room();
        if (this.window.cancelled) break;
        if (Date.now() >= this.#nextClaim) await this.#reclaim(room);
        else await this.#read(room);
        failedInARow = 0;
      } catch (error) {
        if (this.window.cancelled) break;
        if (/NOGROUP/.test(String(error))) {
          this.host.reportError(error);
          return; // the queue was deleted: nothing more will come
        }
        recovering = true;
        if (this.blocking.status === "ready") {
          // A failure on a working connection would fail again at once: wait, longer each time.
          this.host.reportError(error);
          await this.#pause(backoffDelay(DEFAULT_RECONNECT_POLICY, failedInARow++));
        }
        // A read failed by its connection's drop is no error: the loop recovers.
        if (!(await this.#ready())) return;
      }
    }
  }

  /** Waits `ms`, or less if cancelled. */
  async #pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
  }

  async #read(room: number): Promise<void> {
    const block = Math.max(1, this.#nextClaim - Date.now());
    const { keys, heartbeat } = this.host;
    const entries = await blockingReply(
      this.blocking,
      readGroup(this.blocking, this.stream, keys.group, this.consumer, room, block),
      heartbeat > 0 ? block + 2 * heartbeat : undefined,
    );
    if (this.window.cancelled) return this.#returnUnseen(entries);
    // A fresh read (">") is the entry's first delivery.
    for (const entry of entries) this.host.deliver(entry, 1);
  }

  async #reclaim(room: number): Promise<void> {
    const { command, keys, visibilityTimeout, claimInterval } = this.host;
    const claimed = await autoClaim(
      command,
      this.stream,
      keys.group,
      this.consumer,
      visibilityTimeout,
      this.#claimCursor,
      room,
    );
    this.#claimCursor = claimed.cursor;
    // Scan on while the cursor has more; otherwise wait a claim interval.
    this.#nextClaim = claimed.cursor === "0-0" ? Date.now() + claimInterval : 0;
    const { entries } = claimed;
    const counted = await withDeliveryCounts(command, this.stream, keys.group, entries);
    if (this.window.cancelled) return this.#returnUnseen(entries);
    for (const { entry, deliveries } of counted) this.host.deliver(entry, deliveries);
  }

  /**
   * Free prefetch, waiting while there is none. When little is free, one turn
   * of the event loop lets the settles of the batch in hand arrive first, so
   * that reads stay batched instead of one entry per ack.
   */
  async #room(): Promise<number> {
    const window = this.window;
    if (window.room === Number.POSITIVE_INFINITY) return UNLIMITED_BATCH;
    if (window.unsettled > 0 && window.room < window.prefetch / 2) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Cancel wakes this wait too, and leaves no room.
    while (window.room === 0 && !window.cancelled) await window.roomFreed();
    return window.room;
  }

  /** Waits for ioredis to reconnect; false if it gave up or we were cancelled. */
  async #ready(): Promise<boolean> {
    while (!this.window.cancelled && this.blocking.status !== "ready") {
      if (this.blocking.status === "end") {
        // The retry policy gave up: try a fresh connect once the command connection is back.
        await this.host.command.ping().catch(() => {});
        await this.blocking.connect().catch(() => {});
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          this.blocking.off("ready", done);
          this.blocking.off("end", done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        this.blocking.once("ready", done);
        this.blocking.once("end", done);
      });
    }
    return !this.window.cancelled;
  }

  /** Entries read after cancel was asked: straight back to the queue, this delivery not counted. */
  async #returnUnseen(entries: StoredEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.host.command.carrotReturnUnseen(
      this.stream,
      this.host.keys.group,
      this.consumer,
      ...entries.map((entry) => entry.id),
    );
  }

  /**
   * Entries this consumer owns in Redis but not in this process: an
   * XREADGROUP whose reply was lost to a dropped connection. Back to the
   * queue, marked redelivered; the lost read is not counted as a delivery.
   */
  async #returnOrphans(): Promise<void> {
    const { command, keys } = this.host;
    const pending = await pendingIds(command, this.stream, keys.group, this.consumer, 10_000);
    const held = this.host.heldIds();
    const orphans = pending.filter((id) => !held.has(id));
    if (orphans.length > 0) {
      await this.host.command.carrotReturnUnseen(
        this.stream,
        this.host.keys.group,
        this.consumer,
        ...orphans,
      );
    }
  }
}
