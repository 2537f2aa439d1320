/**
 * A place in an InFlightLimit's queue. The limit calls `grant` when a slot
 * passes to it: true takes the slot; false declines it (the wait was given
 * up, its time ran out), and the slot goes on to the next in the queue. It
 * calls `atHead` when the wait becomes the first in the queue.
 */
export abstract class SlotWait {
  previous?: SlotWait;
  next?: SlotWait;
  queued = false;
  abstract grant(): boolean;
  atHead(): void {}
}

/**
 * A counting limit on work in flight: while `limit` are running, work waits
 * in a queue for a slot. It is what bounds a publisher's outbound buffer, so
 * that a producer faster than the broker waits instead of growing memory.
 */
export class InFlightLimit {
  #running = 0;
  /** The waits in arrival order: a linked list, so that one given up leaves from anywhere at once. */
  #first?: SlotWait;
  #last?: SlotWait;
  #waiting = 0;
  #drained?: { promise: Promise<void>; resolve: () => void };

  constructor(readonly limit: number) {}

  get running(): number {
    return this.#running;
  }

  /** How many wait for a slot. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Takes a slot if one is free: true; false when all `limit` are taken (then `enqueue` to wait). */
  tryAcquire(): boolean {
    if (this.#running >= this.limit) return false;
    this.#running++;
    return true;
  }

  /** Queues `wait` for the next slot freed. */
  enqueue(wait: SlotWait): void {
    wait.previous = this.#last;
    if (this.#last) this.#last.next = wait;
    else this.#first = wait;
    this.#last = wait;
    wait.queued = true;
    this.#waiting++;
    if (this.#first === wait) wait.atHead();
  }

  /** Takes `wait` out of the queue (given up): true, or false if it was not in it. */
  withdraw(wait: SlotWait): boolean {
    if (!wait.queued) return false;
    this.#unlink(wait);
    return true;
  }

  release(): void {
    // The slot passes straight to the first waiter that takes it; a loop,
    // not a recursion, so that many declining at once cannot overflow the stack.
    for (let next = this.#first; next; next = this.#first) {
      this.#unlink(next);
      if (next.grant()) return;
    }
    this.#running--;
    if (this.#running === 0 && this.#drained) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    if (!this.#drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#drained = { promise, resolve };
    }
    return this.#drained.promise;
  }

  #unlink(wait: SlotWait): void {
    if (wait.previous) wait.previous.next = wait.next;
    else {
      this.#first = wait.next;
      this.#first?.atHead();
    }
    if (wait.next) wait.next.previous = wait.previous;
    else this.#last = wait.previous;
    wait.previous = wait.next = undefined;
    wait.queued = false;
    this.#waiting--;
  }
}
