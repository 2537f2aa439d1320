import { withTimeout as failAfter } from "@carrot/core/backend";

/**
 * Waiting on events with a deadline that fails the test. The suite never
 * sleeps to synchronise: it waits for the thing itself (a delivery, a count,
 * an error event), and a deadline turns "never happened" into a failure
 * that says what was awaited.
 */

/** A wait that hit its deadline; the message names what was awaited and what arrived instead. */
export class WaitTimeoutError extends Error {
  /** Always "WaitTimeoutError", so that a report tells a deadline from a failed assertion. */
  override name = "WaitTimeoutError";
}

/** A promise with its resolve and reject in hand, for a callback to settle. */
export interface Deferred<T> {
  /** Settled by `resolve` or `reject`, whichever is called first. */
  readonly promise: Promise<T>;
  /** Fulfils `promise` with `value`. */
  resolve(value: T): void;
  /** Rejects `promise` with `error`. */
  reject(error: unknown): void;
}

/**
 * A new Deferred. Its promise may be rejected before anyone awaits it
 * without an unhandled-rejection crash; awaiting it later still throws.
 */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A deferred nobody awaited yet must not crash the process when rejected.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * `promise`, or a WaitTimeoutError after `ms` naming `what` (with `detail()`
 * appended, to show what did arrive instead).
 */
export function withTimeout<T>(
  promise: PromiseLike<T>,
  ms: number,
  what: string,
  detail?: () => string,
): Promise<T> {
  return failAfter(Promise.resolve(promise), ms, () => {
    const more = detail ? `; ${detail()}` : "";
    return new WaitTimeoutError(`timed out after ${ms} ms waiting for ${what}${more}`);
  });
}

/** Resolves after `ms`. Only for the documented last-resort quiet periods, never to synchronise. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
