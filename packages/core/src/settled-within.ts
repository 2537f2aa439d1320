/**
 * Waits for `work` to settle, for `ms` at most: resolves true once it has
 * (resolved or rejected), false when time ran out first. For the steps of a
 * shutdown, which must not hang on a connection that died without a word
 * and will never answer.
 */
export function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(settled, settled);
  });
}
