import type { ScriptedRedis } from "./lua-scripts.js";

/** A delivery this process holds unsettled: its lease is renewed until it is released. */
export interface Lease {
  readonly stream: string;
  readonly consumer: string;
  readonly id: string;
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
  readonly #held = new Map<string, Map<string, Lease>>();
  /** Leases no longer renewed (their subscription ended), still returned to the queue on close. */
  readonly #abandoned = new Map<string, Map<string, Lease>>();
  #timer?: NodeJS.Timeout;

  constructor(
    readonly redis: ScriptedRedis,
    readonly group: string,
    readonly visibilityTimeout: number,
    readonly onError: (error: unknown) => void,
  ) {}

  hold(lease: Lease): void {
    const key = leaseKey(lease.stream, lease.consumer);
    let leases = this.#held.get(key);
    if (!leases) {
      leases = new Map();
      this.#held.set(key, leases);
    }
    leases.set(lease.id, lease);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.renewAll(), Math.max(50, this.visibilityTimeout / 3));
      this.#timer.unref();
    }
  }

  release(lease: Lease): void {
    const key = leaseKey(lease.stream, lease.consumer);
    const leases = this.#held.get(key);
    leases?.delete(lease.id);
    if (leases?.size === 0) this.#held.delete(key);
    this.#abandoned.get(key)?.delete(lease.id);
    if (this.#held.size === 0) this.#stop();
  }

  /**
   * Stops renewing one consumer's leases (its subscription was cancelled):
   * its deliveries stay settleable until the visibility timeout, then other
   * consumers reclaim what is still unsettled.
   */
  forget(stream: string, consumer: string): void {
    const key = leaseKey(stream, consumer);
    const leases = this.#held.get(key);
    if (leases) this.#abandoned.set(key, leases);
    this.#held.delete(key);
    if (this.#held.size === 0) this.#stop();
  }

  /** Ids this process holds for one consumer of one stream. */
  heldIds(stream: string, consumer: string): Set<string> {
    return new Set(this.#held.get(leaseKey(stream, consumer))?.keys());
  }

  /** Every lease, grouped by stream and consumer (for close: they all go back). */
  groups(): Lease[][] {
    return [...this.#held.values(), ...this.#abandoned.values()]
      .map((leases) => [...leases.values()])
      .filter((leases) => leases.length > 0);
  }

  /** Renews the given leases now (Delivery.extend). */
  async renew(leases: Lease[]): Promise<void> {
    const first = leases[0];
    if (!first) return;
    const lost = new Set(
      await this.redis.carrotTouch(
        first.stream,
        this.group,
        first.consumer,
        ...leases.map((l) => l.id),
      ),
    );
    for (const lease of leases) {
      if (lost.has(lease.id)) {
        this.release(lease);
        lease.lost();
      }
    }
  }

  renewAll(): void {
    for (const leases of this.#held.values()) {
      this.renew([...leases.values()]).catch(this.onError);
    }
  }

  clear(): void {
    this.#held.clear();
    this.#abandoned.clear();
    this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function leaseKey(stream: string, consumer: string): string {
  return `${stream}\0${consumer}`;
}
