/**
 * Waits for `work` to settle (resolved or rejected), for `ms` at most. For
 * the steps of a shutdown, which must not hang on a connection that died
 * without a word and will never answer. The timer keeps the process alive
 * while it runs, so that an awaited shutdown always returns.
 */
export function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const settled = () => {
      clearTimeout(timer);
      resolve();
    };
    work.then(settled, settled);
  });
}

/**
 * `work`'s outcome, or a rejection with `timedOut()` if it has not settled
 * within `ms`. `work` itself goes on: a caller that must undo what it may
 * still bring (a connection opened late) does so on `work`.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timedOut()), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
