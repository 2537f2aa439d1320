import { randomUUID } from "node:crypto";
import { type DeadLetterReason, isDeadLetterReason } from "@carrot/core/backend";
import type { KeyLayout } from "./key-layout.js";
import type { ScriptedRedis } from "./lua-scripts.js";
import type { StoredEntry } from "./message-codec.js";
import { firstEntries } from "./stream-reads.js";

/** Longest sleep between looks at the due set: other processes may add earlier work. */
const MAX_SLEEP_MS = 1000;
const DRAIN_LOCK_MS = 10_000;

export interface SweeperHost {
  readonly command: ScriptedRedis;
  readonly keys: KeyLayout;
  /** Redis's clock, in ms. */
  now(): number;
  deadLetter(queue: string, entry: StoredEntry, reason: DeadLetterReason): Promise<void>;
  reportError(error: unknown): void;
}

/**
 * Expires queue heads and drains dead letters, so that TTL and maxLength
 * dead-lettering happen with no consumer on the queue. Queues that need it
 * are on the due set (scored by when); every connection sweeps what is due,
 * the scripts make concurrent sweeps safe, and a per-queue lock keeps two
 * processes from re-publishing the same dead letters twice.
 */
export class QueueSweeper {
  #timer?: NodeJS.Timeout;
  #running = false;
  #stopped = false;

  constructor(readonly host: SweeperHost) {}

  start(): void {
    this.#schedule(0);
  }

  /** Sweep soon: this connection just published something that may need it. */
  poke(): void {
    if (!this.#running) this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#sweep(), ms);
    this.#timer.unref();
  }

  async #sweep(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    let next = MAX_SLEEP_MS;
    try {
      const { command, keys } = this.host;
      const due = await command.zrangebyscore(
        keys.due(),
        "-inf",
        String(this.host.now()),
        "LIMIT",
        0,
        100,
      );
      for (const queue of due) {
        if (this.#stopped) return;
        const dead = await this.#sweepQueue(queue);
        if (dead > 0 && (await this.#drain(queue))) await this.#sweepQueue(queue);
      }
      const [, score] = await command.zrange(keys.due(), "0", "0", "WITHSCORES");
      if (score !== undefined)
        next = Math.min(MAX_SLEEP_MS, Math.max(5, Number(score) - this.host.now()));
    } catch (error) {
      this.host.reportError(error);
    } finally {
      this.#running = false;
      this.#schedule(next);
    }
  }

  #sweepQueue(queue: string): Promise<number> {
    const { command, keys } = this.host;
    return command.carrotSweep(
      keys.stream(queue),
      keys.dead(queue),
      keys.queueMeta(queue),
      keys.due(),
      keys.group,
      queue,
    );
  }

  /** Re-publishes the queue's dead letters, then deletes them (at least once). */
  async #drain(queue: string): Promise<boolean> {
    const { command, keys } = this.host;
    const lock = `${keys.dead(queue)}:lock`;
    const token = randomUUID();
    if ((await command.set(lock, token, "PX", DRAIN_LOCK_MS, "NX")) === null) return false;
    try {
      for (;;) {
        const entries = await firstEntries(command, keys.dead(queue), 100);
        if (entries.length === 0) return true;
        for (const entry of entries) {
          // The scripts write "expired" or "maxlen"; anything else is from another writer.
          const reason = isDeadLetterReason(entry.deadReason) ? entry.deadReason : "expired";
          await this.host.deadLetter(queue, entry, reason);
        }
        await command.xdel(keys.dead(queue), ...entries.map((e) => e.id));
      }
    } finally {
      if ((await command.get(lock)) === token) await command.del(lock);
    }
  }
}
