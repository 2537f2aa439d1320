import type { Message } from "@carrot/core";
import type { Expect } from "./runner.js";

/**
 * Clock readings for the cases whose promise is about time (delays,
 * backoff): when a send was called and when it resolved, and when each
 * message reached its callback. All from `Date.now()` on this machine, the
 * clock the brokers here and their emulators keep too.
 */

/** When a send was called (`start`) and when it resolved (`end`). */
export interface SendTimes {
  /** Before `send` was called: the broker cannot have had the message earlier. */
  readonly start: number;
  /** After `send` resolved: the broker had the message by then. */
  readonly end: number;
}

/** Runs `send` and reads the clock on both sides of it. */
export async function timedSend(send: () => Promise<void>): Promise<SendTimes> {
  const start = Date.now();
  await send();
  return { start, end: Date.now() };
}

/** A consumer callback that notes when each message reached it, then settles it with `then` (ack by default). */
export function arrivalClock<T>(
  then: (message: Message<T>) => Promise<void> | void = (message) => message.ack(),
): {
  /** The callback's settle (give it to `TestKit.collect`). */
  settle: (message: Message<T>) => Promise<void> | void;
  /** When `message` reached the callback. */
  at: (message: Message<T>) => number;
} {
  const times = new WeakMap<Message<T>, number>();
  return {
    settle: (message) => {
      times.set(message, Date.now());
      return then(message);
    },
    at: (message) => {
      const at = times.get(message);
      if (at === undefined)
        throw new Error("arrivalClock: that message never reached the callback");
      return at;
    },
  };
}

/**
 * A message sent with `delay` arrived no sooner than `delay` after its
 * send was called (never early: the broker cannot have had it before), and
 * no later than `tolerance` past `delay` after the send resolved (the
 * broker had it by then).
 */
export function expectOnTime(
  expect: Expect,
  what: string,
  arrived: number,
  sent: SendTimes,
  delay: number,
  tolerance: number,
): void {
  const sinceCalled = arrived - sent.start;
  const sinceResolved = arrived - sent.end;
  expect(
    delay,
    `${what}: delivered ${sinceCalled} ms after its send was called, before its delay of ${delay} ms was up`,
  ).toBeLessThanOrEqual(sinceCalled);
  expect(
    sinceResolved,
    `${what}: delivered ${sinceResolved} ms after its send resolved, more than its delay of ${delay} ms plus the tolerance of ${tolerance} ms (delayToleranceMs)`,
  ).toBeLessThanOrEqual(delay + tolerance);
}
