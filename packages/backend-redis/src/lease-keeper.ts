import { commandError } from "./connection-errors.js";
import type { ScriptedRedis } from "./lua-scripts.js";

/**
 * One consumer of one stream's group, and the deliveries this process holds
 * for it. A subscription gets its group once; its deliveries then hold and
 * release leases without building a key per message.
 */
export class LeaseGroup {
  readonly leases = new Set<Lease>();

  constructor(
    readonly stream: string,
    readonly consumer: string,
  ) {}
}

/** A delivery this process holds unsettled: its lease is renewed until it is released. */
export interface Lease {
  readonly group: LeaseGroup;
  readonly id: string;
  /** Not being settled: a settle in flight keeps its lease (see StreamDelivery) but is no longer held. */
  readonly held: boolean;
  /** Another consumer took the entry (this process was too slow or cut off). */
  lost(): void;
}

/**
 * Keeps held deliveries alive. A stream entry's idle clock starts when it is
 * read, not when a handler starts (dapr #4599), so every held delivery,
 * prefetched or in a callback, is touched (`XCLAIM ... JUSTID` by its owner)
 * every third of the visibility timeout. Only a process that stops touching
 * (dead, or cut off from Redis) has its messages reclaimed by others.
 */
export class LeaseKeeper {
  /** The groups whose leases are renewed, by stream and consumer. */
  readonly #groups = new Map<string, LeaseGroup>();
  /** Groups whose subscription ended, renewed while they hold deliveries, returned to the queue on close. */
  readonly #abandoned = new Set<LeaseGroup>();
  #timer?: NodeJS.Timeout;

  constructor(
    readonly redis: ScriptedRedis,
    readonly consumerGroup: string,
    readonly visibilityTimeout: number,
    readonly onError: (error: unknown) => void,
  ) {}

  /** The renewed group of one consumer of one stream. */
  group(stream: string, consumer: string): LeaseGroup {
    const key = groupKey(stream, consumer);
    let group = this.#groups.get(key);
    if (!group) {
      group = new LeaseGroup(stream, consumer);
      this.#groups.set(key, group);
    }
    return group;
  }

  hold(lease: Lease): void {
    lease.group.leases.add(lease);
    // Stopped by a renewal round that found nothing held, not on each release:
    // a consumer that often drains its prefetch would otherwise make a timer per batch.
    if (!this.#timer) {
      this.#timer = setInterval(() => this.renewAll(), Math.max(50, this.visibilityTimeout / 3));
      this.#timer.unref();
    }
  }

  release(lease: Lease): void {
    lease.group.leases.delete(lease);
  }

  /**
   * One consumer's subscription was cancelled: its group is no longer looked
   * up by name, but what it delivered and is still held (a callback that
   * `cancel()`, `close()` or `wait({ limit })` lets finish) stays renewed
   * until it is settled or the connection closes, as while consuming.
   */
  forget(stream: string, consumer: string): void {
    const key = groupKey(stream, consumer);
    const group = this.#groups.get(key);
    if (!group) return;
    this.#groups.delete(key);
    if (group.leases.size > 0) this.#abandoned.add(group);
  }

  /** Ids this process holds for one consumer of one stream. */
  heldIds(stream: string, consumer: string): Set<string> {
    const leases = this.#groups.get(groupKey(stream, consumer))?.leases ?? [];
    return new Set(Array.from(leases, (lease) => lease.id));
  }

  /**
   * The leases still held, grouped by stream and consumer (for close: they
   * go back). Those being settled are left out: their settle is on its way.
   */
  held(): Lease[][] {
    return [...this.#groups.values(), ...this.#abandoned]
      .map((group) => [...group.leases].filter((lease) => lease.held))
      .filter((leases) => leases.length > 0);
  }

  /** Renews the given leases, all of one group, now (Delivery.extend). */
  async renew(leases: Lease[]): Promise<void> {
    const first = leases[0];
    if (!first) return;
    const { stream, consumer } = first.group;
    const lost = new Set(
      await this.redis
        .carrotTouch(stream, this.consumerGroup, consumer, ...leases.map((l) => l.id))
        .catch((error: unknown) => {
          throw commandError(error, `renew the leases of consumer '${consumer}'`);
        }),
    );
    for (const lease of leases) {
      if (lost.has(lease.id)) {
        this.release(lease);
        lease.lost();
      }
    }
  }

  renewAll(): void {
    let holding = false;
    for (const group of this.#abandoned) if (group.leases.size === 0) this.#abandoned.delete(group);
    for (const group of [...this.#groups.values(), ...this.#abandoned]) {
      if (group.leases.size === 0) continue;
      holding = true;
      this.renew([...group.leases]).catch(this.onError);
    }
    if (!holding) this.#stop();
  }

  clear(): void {
    for (const group of this.#groups.values()) group.leases.clear();
    this.#abandoned.clear();
    this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function groupKey(stream: string, consumer: string): string {
  return `${stream}\0${consumer}`;
}
