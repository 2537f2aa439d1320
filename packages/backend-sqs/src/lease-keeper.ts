/**
 * Keeps received messages invisible to other consumers while this process
 * holds them: from the moment of receipt (prefetched messages included, the
 * trap of sqs-consumer #218 and dramatiq_sqs #53), until they are settled,
 * and for at most `maxHoldSeconds` (SQS itself caps a message's visibility
 * at 12 hours from receipt). Every lease/3 seconds, each lease with less than
 * two thirds of its time left is renewed for a full lease; the renewals of a
 * queue go out together as ChangeMessageVisibilityBatch requests.
 */
export type ChangeVisibility = (
  queueUrl: string,
  receiptHandle: string,
  seconds: number,
) => Promise<void>;

interface Lease {
  queueUrl: string;
  receivedAt: number;
  /** When the message becomes visible again unless renewed (ms since epoch). */
  until: number;
}

export class LeaseKeeper {
  readonly #change: ChangeVisibility;
  readonly #leaseSeconds: number;
  readonly #maxHoldMs: number;
  readonly #onError: (error: Error) => void;
  readonly #leases = new Map<string, Lease>();
  #timer?: NodeJS.Timeout;

  constructor(
    change: ChangeVisibility,
    leaseSeconds: number,
    maxHoldSeconds: number,
    onError: (error: Error) => void,
  ) {
    this.#change = change;
    this.#leaseSeconds = leaseSeconds;
    this.#maxHoldMs = maxHoldSeconds * 1000;
    this.#onError = onError;
  }

  /** Starts keeping a message received now with the lease as its visibility timeout. */
  hold(queueUrl: string, receiptHandle: string): void {
    const now = Date.now();
    this.#leases.set(receiptHandle, {
      queueUrl,
      receivedAt: now,
      until: now + this.#leaseSeconds * 1000,
    });
    this.#timer ??= setInterval(() => this.#renew(), (this.#leaseSeconds * 1000) / 3).unref();
  }

  /** Stops keeping it (settled). */
  release(receiptHandle: string): void {
    this.#leases.delete(receiptHandle);
    if (this.#leases.size === 0) this.#stop();
  }

  /** Delivery.extend: at least `seconds` more from now, whatever the lease. */
  async extend(receiptHandle: string, seconds: number): Promise<void> {
    const lease = this.#leases.get(receiptHandle);
    if (!lease) return;
    lease.until = Math.max(lease.until, Date.now() + seconds * 1000);
    await this.#change(lease.queueUrl, receiptHandle, Math.ceil((lease.until - Date.now()) / 1000));
  }

  /** Forgets every lease and says which messages they were (to give them back on close). */
  releaseAll(): { queueUrl: string; receiptHandle: string }[] {
    const all = [...this.#leases].map(([receiptHandle, { queueUrl }]) => ({
      queueUrl,
      receiptHandle,
    }));
    this.#leases.clear();
    this.#stop();
    return all;
  }

  #renew(): void {
    const now = Date.now();
    const leaseMs = this.#leaseSeconds * 1000;
    for (const [handle, lease] of this.#leases) {
      if (now - lease.receivedAt >= this.#maxHoldMs) {
        this.#leases.delete(handle); // bounded: the message goes back to the queue
        continue;
      }
      if (lease.until - now > (leaseMs * 2) / 3) continue;
      const seconds = Math.min(
        this.#leaseSeconds,
        Math.floor((lease.receivedAt + this.#maxHoldMs - now) / 1000),
      );
      if (seconds <= 0) continue;
      lease.until = now + seconds * 1000;
      this.#change(lease.queueUrl, handle, seconds).catch((error: Error) => {
        if (this.#leases.has(handle)) this.#onError(error);
      });
    }
    if (this.#leases.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
