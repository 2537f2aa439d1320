/**
 * A promise whose resolvers are handed over without a closure made for it,
 * for what a hot path makes per message (a send's deadline, a batch entry's
 * promise): a closure per promise costs a function and a context more per
 * message, and the per-message garbage is most of what a send costs beyond
 * the client's own work. `new Promise` runs its executor at once, so one
 * executor shared by all leaves the resolvers in the two bindings below:
 *
 *     const promise = capturedPromise<T>();
 *     keep(capturedResolve, capturedReject); // before another capturedPromise()
 */
export function capturedPromise<T>(): Promise<T> {
  return new Promise<T>(capture);
}

/** The resolve function of the promise `capturedPromise()` made last. */
export let capturedResolve: (value: never) => void = () => {};
/** The reject function of the promise `capturedPromise()` made last. */
export let capturedReject: (reason: unknown) => void = () => {};

function capture(resolve: (value: never) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}
