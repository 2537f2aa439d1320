/**
 * Waits for `work` to settle (resolved or rejected), for `ms` at most. For
 * the steps of a shutdown, which must not hang on a connection that died
 * without a word and will never answer.
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
