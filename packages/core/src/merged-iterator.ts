/** One step of one of the merged iterators: its result, or what its `next()` threw. */
type Step<T> =
  | { readonly index: number; readonly result: IteratorResult<T> }
  | { readonly index: number; readonly error: unknown };

/**
 * Several async iterators read as one: each value as soon as its iterator
 * has it, whichever comes first, taking turns among those that have one.
 * Ends when all have ended; throws what the first to fail threw. Each
 * iterator is asked for its next value only once the one before was taken,
 * so leaving the loop leaves none read ahead. Ending (or leaving) the merge
 * does not end the iterators: the caller does, as it must stop them anyway.
 */
export async function* mergeIterators<T>(
  iterators: readonly AsyncIterator<T>[],
): AsyncGenerator<T, void, undefined> {
  const pending = new Map<number, Promise<Step<T>>>();
  const pull = (index: number, iterator: AsyncIterator<T>): void => {
    pending.set(
      index,
      iterator.next().then(
        (result) => ({ index, result }),
        (error: unknown) => ({ index, error }),
      ),
    );
  };
  for (const [index, iterator] of iterators.entries()) pull(index, iterator);
  while (pending.size > 0) {
    const step = await Promise.race(pending.values());
    pending.delete(step.index);
    if ("error" in step) throw step.error;
    if (step.result.done) continue;
    yield step.result.value;
    // Back of the queue: the Map's order is the race's, so iterators with values take turns.
    pull(step.index, iterators[step.index]!);
  }
}
