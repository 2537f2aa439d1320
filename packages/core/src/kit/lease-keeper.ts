/** One lease to renew, for at least `seconds` from now (unless the lease is fixed). */
export interface LeaseRenewal {
  /** The lease's `Lease.id` (an SQS receipt handle, a Redis entry id). */
  readonly id: string;
  /** Whole seconds from now the broker should keep it; a `fixedLease` broker ignores it. */
  readonly seconds: number;
}

/**
 * Renews `batch` (leases of one group, at most `batchSize` of them) in one
 * broker call. Resolves to the ids the broker says are no longer this
 * consumer's (another consumer took them); rejects when the call failed.
 */
export type RenewLeases<G> = (
  group: G,
  batch: LeaseRenewal[],
) => Promise<Iterable<string> | undefined>;

/** What a `LeaseKeeper` needs from its backend; `G` names a group of leases renewed in one call. */
export interface LeaseKeeperOptions<G> {
  /** The lease a delivery gets from the broker at receipt and at each renewal, in ms. */
  leaseMs: number;
  /** Renewals stop this long after receipt and the message goes back (SQS: 12 h). Default: never. */
  maxHoldMs?: number;
  /** The most leases one `renew` call takes (SQS batches: 10). Default: no limit. */
  batchSize?: number;
  /**
   * The broker renews for the lease time whatever is asked (Redis resets the
   * idle time): `extend` then renews at once, and the keeper's rounds carry on.
   */
  fixedLease?: boolean;
  /** Renews one group's batch in one broker call: the backend's one hook. */
  renew: RenewLeases<G>;
  /** A renewal failed for leases still held; they are tried again next round. */
  onError(error: unknown): void;
}

/**
 * A delivery's lease. A backend may extend this class with its delivery (so
 * a held delivery costs no extra object) and override `lost`.
 */
export class Lease<G> {
  /** Set by the keeper: when it was held (ms since epoch). */
  receivedAt = 0;
  /** Set by the keeper: when the broker gives the message to others unless renewed. */
  until = 0;

  constructor(
    /** What it is renewed with (an SQS queue URL; a Redis stream and consumer). */
    readonly group: G,
    /** What the broker renews it by (an SQS receipt handle, a Redis entry id). */
    readonly id: string,
  ) {}

  /** The broker gave it to another consumer: the keeper has let it go. */
  lost(): void {}
}

/**
 * For a backend whose broker leases deliveries (SQS visibility timeout, the
 * idle time of a Redis stream's pending entry): a delivery not renewed within
 * its lease goes to another consumer. The lease starts when the broker hands
 * the message over, not when a callback starts, so messages waiting in a
 * prefetch buffer run out too (dapr components-contrib #4599, dramatiq_sqs
 * #53), and a callback longer than the lease runs twice (sqs-consumer #218).
 *
 * The backend gives every delivery it holds to one LeaseKeeper at receipt and
 * releases it when settled, and supplies one hook, `renew(group, batch)`,
 * that renews a batch of leases of one group (an SQS queue URL, a Redis
 * stream and consumer) in one broker call and says which of them it found
 * lost. The keeper renews on a timer, every third of the lease time, each
 * lease that needs it, until it is settled or has been held for the maximum
 * hold; `extend` renews one at once. A group needs no registration: it is
 * renewed while it holds leases, whether its subscription still runs or was
 * cancelled while a callback finishes.
 */
export class LeaseKeeper<G> {
  readonly #options: LeaseKeeperOptions<G>;
  readonly #intervalMs: number;
  readonly #leaseSeconds: number;
  readonly #maxHoldMs: number;
  readonly #batchSize: number;
  /** Held leases by group; a group emptied by releases is dropped by the next round. */
  readonly #groups = new Map<G, Set<Lease<G>>>();
  #timer?: NodeJS.Timeout;

  constructor(options: LeaseKeeperOptions<G>) {
    this.#options = options;
    this.#intervalMs = Math.max(50, options.leaseMs / 3);
    this.#leaseSeconds = Math.ceil(options.leaseMs / 1000);
    this.#maxHoldMs = options.maxHoldMs ?? Number.POSITIVE_INFINITY;
    this.#batchSize = options.batchSize ?? Number.POSITIVE_INFINITY;
  }

  /** Keeps `lease` alive from now (its receipt) until it is released. */
  hold(lease: Lease<G>): void {
    const now = Date.now();
    lease.receivedAt = now;
    lease.until = now + this.#options.leaseMs;
    let leases = this.#groups.get(lease.group);
    if (!leases) {
      leases = new Set();
      this.#groups.set(lease.group, leases);
    }
    leases.add(lease);
    // Stopped by a round that finds nothing held, not on each release: a
    // consumer that often drains its prefetch would otherwise make a timer per batch.
    this.#timer ??= setInterval(() => this.#round(), this.#intervalMs).unref();
  }

  /** Settled: no more renewals. */
  release(lease: Lease<G>): void {
    this.#groups.get(lease.group)?.delete(lease);
  }

  /** Whether `lease` is held (not released, lost, or past its maximum hold). */
  holds(lease: Lease<G>): boolean {
    return this.#groups.get(lease.group)?.has(lease) ?? false;
  }

  /**
   * Delivery.extend: renews now, for at least `seconds` from now (for the
   * lease time with `fixedLease`). False if the lease is no longer held or
   * the broker says it was lost.
   */
  async extend(lease: Lease<G>, seconds: number): Promise<boolean> {
    if (!this.holds(lease)) return false;
    const now = Date.now();
    lease.until = this.#options.fixedLease
      ? now + this.#options.leaseMs
      : Math.max(lease.until, now + seconds * 1000);
    const lost = await this.#options.renew(lease.group, [
      { id: lease.id, seconds: Math.ceil((lease.until - now) / 1000) },
    ]);
    return !this.#markLost([lease], lost);
  }

  /** Ids of the leases `group` holds, settling ones included (they are still this consumer's). */
  heldIds(group: G): Set<string> {
    return new Set(Array.from(this.#groups.get(group) ?? [], (lease) => lease.id));
  }

  /** Stops every renewal and forgets every lease (close: the tracker gives the unsettled back). */
  clear(): void {
    this.#groups.clear();
    this.#stop();
  }

  #round(): void {
    const now = Date.now();
    // A lease renewed (or received) within the last half round is left for the next one.
    const renewBelow = this.#options.leaseMs - this.#intervalMs / 2;
    for (const [group, leases] of this.#groups) {
      let due: Lease<G>[] = [];
      let batch: LeaseRenewal[] = [];
      for (const lease of leases) {
        const holdLeft = lease.receivedAt + this.#maxHoldMs - now;
        if (holdLeft <= 0) {
          leases.delete(lease); // held for the maximum: the broker gives it back
          continue;
        }
        if (lease.until - now > renewBelow) continue;
        const seconds = Math.min(this.#leaseSeconds, Math.floor(holdLeft / 1000));
        if (seconds <= 0) continue;
        lease.until = now + (this.#options.fixedLease ? this.#options.leaseMs : seconds * 1000);
        due.push(lease);
        batch.push({ id: lease.id, seconds });
        if (batch.length === this.#batchSize) {
          this.#send(group, due, batch);
          due = [];
          batch = [];
        }
      }
      if (batch.length > 0) this.#send(group, due, batch);
      if (leases.size === 0) this.#groups.delete(group);
    }
    if (this.#groups.size === 0) this.#stop();
  }

  #send(group: G, leases: Lease<G>[], batch: LeaseRenewal[]): void {
    this.#options.renew(group, batch).then(
      (lost) => this.#markLost(leases, lost),
      (error: unknown) => {
        if (leases.some((lease) => this.holds(lease))) this.#options.onError(error);
      },
    );
  }

  /** Lets go of the leases the broker says are lost; whether there were any. */
  #markLost(leases: Lease<G>[], lost: Iterable<string> | undefined): boolean {
    if (!lost) return false;
    const gone = new Set(lost);
    if (gone.size === 0) return false;
    let any = false;
    for (const lease of leases) {
      if (!gone.has(lease.id)) continue;
      any = true;
      if (!this.holds(lease)) continue;
      this.release(lease);
      lease.lost();
    }
    return any;
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
