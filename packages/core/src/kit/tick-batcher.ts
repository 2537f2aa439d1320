import { capturedPromise, capturedReject, capturedResolve } from "./captured-resolvers.js";

/**
 * Turns the calls a backend gets in one turn of the event loop into one
 * request: a broker that takes batches (SQS's SendMessageBatch of 10, one
 * Redis script call for many publishes or settles) costs a round trip per
 * request, so a burst of sends or acks should cost a few requests, not one
 * each. A batch is sent when it is full (entry and byte limits) or when the
 * turn ends; each caller's promise settles with its own entry's outcome, so
 * one refused entry fails only its own caller.
 *
 * The turn ends at setImmediate, the event loop's check phase. It is the
 * one point after which nothing more of this turn can join: every promise
 * job and process.nextTick callback of the turn has run by then, however
 * deep the await chains that lead to the calls, and so have the other I/O
 * callbacks of the same poll (the deliveries read together from one socket,
 * whose acks then share a batch). process.nextTick fires before the promise
 * jobs of a turn that began in a callback, and queueMicrotask before the
 * jobs queued after it, so either splits what one turn produced. Speed does
 * not decide it: with the Redis publish, Redis consume+ack and SQS send
 * benches (bench/run.ts), setImmediate and process.nextTick differed by less
 * than the rounds' own spread, in messages per second and in CPU per message.
 */

/** A batch's bounds: `entries` per request, and `bytes` (the sizes callers give) in all. */
export interface BatchLimits {
  /** Entries per request (SQS: 10); a batch this full is sent at once. */
  entries: number;
  /** Infinity when only the count matters. */
  bytes: number;
}

/**
 * One entry's outcome: its value, or the Error that refused it. So a
 * batcher's value type is never an Error itself. A promise of the value
 * stands for it: the entry's promise adopts it, so an entry whose outcome
 * takes more work (a publish routed again) settles when that work does,
 * without a promise of the caller's own on top of the entry's.
 */
export type BatchOutcome<R> = R | PromiseLike<R> | Error;

/**
 * Sends one batch; resolves to one outcome per item, in order. A rejection
 * fails every entry of the batch with that reason.
 */
export type SendBatch<T, R> = (items: T[]) => Promise<BatchOutcome<R>[]>;

/**
 * The entries gathered for one request; `resolves[i]` and `rejects[i]`
 * settle the promise of `items[i]` (two arrays, not an object per entry:
 * this is every batched send's and settle's path).
 */
class PendingBatch<T, R> {
  readonly items: T[] = [];
  readonly resolves: ((value: R | PromiseLike<R>) => void)[] = [];
  readonly rejects: ((reason: unknown) => void)[] = [];
  bytes = 0;

  add(item: T, size: number): Promise<R> {
    this.items.push(item);
    this.bytes += size;
    const promise = capturedPromise<R>();
    this.resolves.push(capturedResolve as (value: R | PromiseLike<R>) => void);
    this.rejects.push(capturedReject);
    return promise;
  }

  /** Whether `size` more bytes would pass the limit (an entry alone may: it goes on its own). */
  overflows(size: number, limits: BatchLimits): boolean {
    return this.items.length > 0 && this.bytes + size > limits.bytes;
  }

  send(send: SendBatch<T, R>): void {
    const { resolves, rejects } = this;
    let sent: Promise<BatchOutcome<R>[]>;
    try {
      sent = send(this.items);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (outcomes) => {
        for (let i = 0; i < resolves.length; i++) {
          const outcome = outcomes[i] as BatchOutcome<R>;
          if (outcome instanceof Error) rejects[i]!(outcome);
          else resolves[i]!(outcome);
        }
      },
      (reason: unknown) => {
        for (const reject of rejects) reject(reason);
      },
    );
  }
}

/**
 * Gathers the calls of one turn into batches per key (a queue URL, a
 * consumer): each key's entries go in requests of their own, and a key is
 * forgotten once its batch is sent, so keys that come and go cost nothing.
 */
export class KeyedTickBatcher<K, T, R = void> {
  readonly #send: (key: K, items: T[]) => Promise<BatchOutcome<R>[]>;
  readonly #limits: BatchLimits;
  readonly #pending = new Map<K, PendingBatch<T, R>>();
  #scheduled: NodeJS.Immediate | undefined;

  constructor(send: (key: K, items: T[]) => Promise<BatchOutcome<R>[]>, limits: BatchLimits) {
    this.#send = send;
    this.#limits = limits;
  }

  /** Resolves with this entry's outcome; `size` counts against the byte limit. */
  add(key: K, item: T, size = 0): Promise<R> {
    let pending = this.#pending.get(key);
    if (pending?.overflows(size, this.#limits)) {
      this.#sendPending(key, pending);
      pending = undefined;
    }
    if (!pending) {
      pending = new PendingBatch();
      this.#pending.set(key, pending);
    }
    const outcome = pending.add(item, size);
    if (pending.items.length >= this.#limits.entries) this.#sendPending(key, pending);
    else this.#scheduled ??= setImmediate(() => this.flush());
    return outcome;
  }

  /** Sends what was gathered for every key now, without waiting for the turn to end. */
  flush(): void {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    for (const [key, pending] of this.#pending) this.#sendPending(key, pending);
  }

  #sendPending(key: K, pending: PendingBatch<T, R>): void {
    this.#pending.delete(key);
    pending.send((items) => this.#send(key, items));
  }
}

/** Gathers the calls of one turn into batches for one destination. */
export class TickBatcher<T, R = void> {
  readonly #batches: KeyedTickBatcher<undefined, T, R>;

  constructor(send: SendBatch<T, R>, limits: BatchLimits) {
    this.#batches = new KeyedTickBatcher((_key, items) => send(items), limits);
  }

  /** Resolves with this entry's outcome; `size` counts against the byte limit. */
  add(item: T, size = 0): Promise<R> {
    return this.#batches.add(undefined, item, size);
  }

  /** Sends what was gathered now, without waiting for the turn to end (before a close). */
  flush(): void {
    this.#batches.flush();
  }
}
