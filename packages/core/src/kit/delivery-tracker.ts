import { ConnectionLostError, MessageStateError } from "../errors.js";

/** What a `DeliveryTracker` needs from its backend; `T` is the backend's own delivery record. */
export interface DeliveryTrackerOptions<T> {
  /** The backend's name, for error messages ("memory", "redis"...). */
  name: string;
  /** Names one delivery in error messages ("message 1-0 from 'jobs'"); default "this message". */
  describe?(item: T): string;
  /** Returns unsettled deliveries to the broker, in delivery order (close). */
  giveBack(items: T[]): void | Promise<void>;
}

/**
 * One subscription's prefetch: how many of its deliveries are unsettled,
 * and whether it may be handed more. Freed places call `onRoom` and wake
 * `roomFreed()` waiters.
 */
export class PrefetchWindow {
  #unsettled = 0;
  #cancelled = false;
  #waiters: (() => void)[] = [];

  constructor(
    /** Unsettled deliveries allowed at once; 0 means no limit. */
    readonly prefetch: number,
    /** Called each time a place is freed (a backend that pushes to its subscriptions, as the memory one does, hands out more then). */
    readonly onRoom?: () => void,
  ) {}

  /** Deliveries of this subscription handed out and not yet settled or lost. */
  get unsettled(): number {
    return this.#unsettled;
  }

  /** How many more may be handed out now: 0 once cancelled, Infinity without a limit. */
  get room(): number {
    if (this.#cancelled) return 0;
    if (this.prefetch === 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.prefetch - this.#unsettled);
  }

  /** Whether `cancel()` was called. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** The subscription ends: no more room; waiters wake. Its deliveries stay settleable. */
  cancel(): void {
    this.#cancelled = true;
    this.#wake();
  }

  /** Resolves when a place is freed (a settle, a loss) or the window is cancelled. */
  roomFreed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Counted by the tracker: a delivery of this window is held. */
  taken(): void {
    this.#unsettled++;
  }

  /** Counted by the tracker: a delivery of this window was settled or lost. */
  freed(): void {
    this.#unsettled--;
    this.onRoom?.();
    this.#wake();
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** One delivery the tracker holds for the backend. */
export class HeldDelivery<T> {
  /** "held" until settled; "lost" once its connection or lease is gone, so that a settle fails. Set by the tracker. */
  state: "held" | "settled" | "lost" = "held";

  /**
   * @internal The tracker's list of unsettled deliveries runs through the
   * deliveries themselves: holding and settling one is two pointer writes,
   * no Set entry made and dropped per message (the hottest path of a consumer).
   */
  previous?: HeldDelivery<T>;
  /** @internal See `previous`. */
  next?: HeldDelivery<T>;

  constructor(
    /** The backend's own record of the delivery, handed back to its settle and `giveBack`. */
    readonly item: T,
    /** The subscription's prefetch it takes a place in; none for `get`. */
    readonly window?: PrefetchWindow,
  ) {}
}

/**
 * The bookkeeping every backend does for the deliveries it hands out: which
 * ones are unsettled, how many of a subscription's prefetch they take, that
 * each is settled once (a second settle fails with `MessageStateError`), that
 * a settle after the connection that delivered it was closed or lost fails
 * with `ConnectionLostError` (the broker will deliver it again), and that on
 * close the unsettled ones go back to the broker, in the order they were
 * delivered.
 *
 * The backend holds each delivery it hands out (`hold`, not for noAck),
 * settles through the tracker (`settle` checks, frees the prefetch place,
 * then runs the backend's own settle), and says when a delivery or the whole
 * connection was lost (`lose`, `connectionLost`). Its one hook, `giveBack`,
 * returns the unsettled deliveries on close. A backend with leases holds a
 * delivery in its LeaseKeeper as well, from the same place.
 */
export class DeliveryTracker<T> {
  readonly #options: DeliveryTrackerOptions<T>;
  /** Unsettled deliveries, in delivery order: a list linked through the deliveries. */
  #first?: HeldDelivery<T>;
  #last?: HeldDelivery<T>;
  #size = 0;
  #closed = false;

  constructor(options: DeliveryTrackerOptions<T>) {
    this.#options = options;
  }

  /** Unsettled deliveries. */
  get size(): number {
    return this.#size;
  }

  /** A delivery handed out to be settled: it takes a place in `window` until settled or lost. */
  hold(item: T, window?: PrefetchWindow): HeldDelivery<T> {
    const held = new HeldDelivery(item, window);
    if (this.#last) {
      this.#last.next = held;
      held.previous = this.#last;
    } else {
      this.#first = held;
    }
    this.#last = held;
    this.#size++;
    window?.taken();
    return held;
  }

  /**
   * Checks that `held` may be settled (undefined: consumed with noAck),
   * frees its place, and returns what `work` (the backend's settle) returns.
   * Throws `ConnectionLostError` once its connection was closed or lost,
   * `MessageStateError` once it was settled.
   */
  settle<R>(held: HeldDelivery<T> | undefined, work: (item: T) => R): R {
    if (this.#closed)
      throw this.#lostError(
        held,
        "is closed: the message went back to its queue and will be delivered again",
      );
    if (held?.state === "lost")
      throw this.#lostError(
        held,
        "lost it (the connection dropped, or its lease ran out and another consumer took it): the broker will deliver it again",
      );
    if (held?.state !== "held") {
      const what = held ? this.#describe(held) : "this message";
      throw new MessageStateError(
        `${what} from the ${this.#options.name} backend is not awaiting a settle (settled already, or consumed with noAck)`,
      );
    }
    this.#release(held, "settled");
    return work(held.item);
  }

  /** One delivery is no longer this connection's (its lease ran out): its place is freed, its settle fails. */
  lose(held: HeldDelivery<T>): void {
    if (held.state === "held") this.#release(held, "lost");
  }

  /**
   * The connection that delivered the held deliveries is gone and the broker
   * takes them back by itself (an AMQP channel, a NATS connection): none of
   * them can be settled any more.
   */
  connectionLost(): void {
    for (const held of this.#unsettled()) this.#release(held, "lost");
  }

  /** Gives every unsettled delivery back, in delivery order; settles fail from now on. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const unsettled = this.#unsettled();
    for (const held of unsettled) held.state = "lost";
    this.#first = this.#last = undefined;
    this.#size = 0;
    if (unsettled.length > 0) await this.#options.giveBack(unsettled.map((held) => held.item));
  }

  /** The unsettled deliveries, in delivery order (a copy: releasing one unlinks it). */
  #unsettled(): HeldDelivery<T>[] {
    const all: HeldDelivery<T>[] = [];
    for (let held = this.#first; held; held = held.next) all.push(held);
    return all;
  }

  #release(held: HeldDelivery<T>, state: "settled" | "lost"): void {
    held.state = state;
    const { previous, next } = held;
    if (previous) previous.next = next;
    else this.#first = next;
    if (next) next.previous = previous;
    else this.#last = previous;
    held.previous = held.next = undefined;
    this.#size--;
    held.window?.freed();
  }

  #describe(held: HeldDelivery<T>): string {
    return this.#options.describe?.(held.item) ?? "this message";
  }

  #lostError(held: HeldDelivery<T> | undefined, what: string): ConnectionLostError {
    const message = held ? this.#describe(held) : "this message";
    return new ConnectionLostError(
      `the ${this.#options.name} connection that delivered ${message} ${what}`,
    );
  }
}
