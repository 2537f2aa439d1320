import { randomUUID } from "node:crypto";
import { type DeadLetterReason, isDeadLetterReason } from "@carrot/core/backend";
import type { ReleaseRound } from "./delayed-release.js";
import type { KeyLayout } from "./key-layout.js";
import type { ScriptedRedis } from "./lua-scripts.js";
import type { StoredEntry } from "./message-codec.js";
import { firstEntries } from "./stream-reads.js";

/** Longest sleep between looks at the due sets: other processes may add earlier work. */
const MAX_SLEEP_MS = 1000;
/** Shortest: the next look when work is due already (a full round, or Redis's clock a little behind ours). */
const MIN_SLEEP_MS = 5;
/** Release rounds per sweep before the queues get their turn; the rest are released 5 ms later. */
const RELEASE_ROUNDS = 10;
const DRAIN_LOCK_MS = 10_000;

export interface SweeperHost {
  readonly command: ScriptedRedis;
  readonly keys: KeyLayout;
  /** On a Redis Cluster: the due set is in another slot than the queues (see `#sweepAcrossSlots`). */
  readonly cluster: boolean;
  /** Redis's clock, in ms. */
  now(): number;
  /** Moves one bounded batch of due delayed messages into their queues. */
  releaseDelayed(): Promise<ReleaseRound>;
  deadLetter(queue: string, entry: StoredEntry, reason: DeadLetterReason): Promise<void>;
  reportError(error: unknown): void;
}

/**
 * Releases delayed messages, expires queue heads and drains dead letters, so
 * that delays, TTL and maxLength dead-lettering happen with no consumer on
 * the queue. Due work is on two sorted sets scored by when (Redis's clock):
 * delayed messages, and queues that need a look; every connection sweeps
 * what is due, the scripts make concurrent sweeps safe, and a per-queue
 * lock keeps two processes from re-publishing the same dead letters twice.
 * It sleeps until the earliest due time it knows of, at most a second (other
 * processes may add earlier work), and is woken sooner by this connection's
 * own publishes.
 */
export class QueueSweeper {
  #timer?: NodeJS.Timeout;
  /** When the timer fires (our clock), Infinity when none is set. */
  #timerAt = Number.POSITIVE_INFINITY;
  /** The earliest wake asked for while a sweep ran (Redis's clock): applied when it ends. */
  #wakeAt = Number.POSITIVE_INFINITY;
  #running = false;
  #stopped = false;

  constructor(readonly host: SweeperHost) {}

  start(): void {
    this.#schedule(0);
  }

  /** Sweep now: this connection just published something that may need it. */
  poke(): void {
    this.wakeAt(this.host.now());
  }

  /** Sweep by `at` (Redis's clock, ms) if the next sweep is later: something falls due then. */
  wakeAt(at: number): void {
    if (this.#running) {
      this.#wakeAt = Math.min(this.#wakeAt, at);
      return;
    }
    const ms = Math.max(0, at - this.host.now());
    if (Date.now() + ms < this.#timerAt) this.#schedule(ms);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timerAt = Date.now() + ms;
    this.#timer = setTimeout(() => void this.#sweep(), ms);
    this.#timer.unref();
  }

  async #sweep(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    this.#timerAt = Number.POSITIVE_INFINITY;
    let next = MAX_SLEEP_MS;
    try {
      const { command, keys } = this.host;
      for (let round = 0; round < RELEASE_ROUNDS; round++) {
        if (this.#stopped || !(await this.host.releaseDelayed()).more) break;
      }
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
      const earliest = await this.#earliestDue();
      next = Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, earliest - this.host.now()));
    } catch (error) {
      this.host.reportError(error);
    } finally {
      this.#running = false;
      const asked = this.#wakeAt;
      this.#wakeAt = Number.POSITIVE_INFINITY;
      this.#schedule(Math.min(next, Math.max(0, asked - this.host.now())));
    }
  }

  /** The earliest score of the two due sets (Redis's clock), Infinity when both are empty. */
  async #earliestDue(): Promise<number> {
    const { command, keys } = this.host;
    const replies = await command
      .pipeline()
      .zrange(keys.due(), "0", "0", "WITHSCORES")
      .zrange(keys.delayed(), "0", "0", "WITHSCORES")
      .exec();
    let earliest = Number.POSITIVE_INFINITY;
    for (const [error, reply] of replies ?? []) {
      if (error) throw error;
      const score = (reply as string[])[1];
      if (score !== undefined) earliest = Math.min(earliest, Number(score));
    }
    return earliest;
  }

  #sweepQueue(queue: string): Promise<number> {
    const { command, keys } = this.host;
    if (this.host.cluster) return this.#sweepAcrossSlots(queue);
    return command.carrotSweep(
      keys.stream(queue),
      keys.dead(queue),
      keys.queueMeta(queue),
      keys.due(),
      keys.group,
      queue,
    );
  }

  /**
   * A cluster's sweep of one queue: the sweep script (the queue's slot)
   * says when it is next due, and the due set (the topology's slot) is set
   * to that. A publish that stored meanwhile may have marked the queue
   * before that reschedule overwrote its mark: so the queue is swept once
   * more, and what that finds is marked as publishes mark (`ZADD LT`). A
   * store after the second sweep marks after the reschedule, and stays.
   */
  async #sweepAcrossSlots(queue: string): Promise<number> {
    const { command, keys } = this.host;
    const sweep = () =>
      command.carrotSlotSweep(
        keys.stream(queue),
        keys.dead(queue),
        keys.queueMeta(queue),
        keys.group,
        queue,
      );
    const [dead, next] = await sweep();
    if (dead > 0 || next >= 0) await command.zadd(keys.due(), dead > 0 ? 0 : next, queue);
    else await command.zrem(keys.due(), queue);
    const [deadNow, nextNow] = await sweep();
    if (deadNow > 0 || nextNow >= 0) {
      await command.zadd(keys.due(), "LT", deadNow > 0 ? 0 : nextNow, queue);
    }
    return deadNow;
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
