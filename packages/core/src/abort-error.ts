/**
 * What an operation ended by its AbortSignal rejects with: the signal's
 * reason when it is an Error (as fetch() and Node's own APIs do), else an
 * "AbortError" DOMException with the reason as its cause.
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException("This operation was aborted", { name: "AbortError", cause: reason });
}

/**
 * `work`'s outcome, or `abortError(signal)` as soon as the signal aborts.
 * Aborting only stops the waiting: the work goes on, its outcome unobserved.
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    work.finally(() => signal.removeEventListener("abort", onAbort)).then(resolve, reject);
  });
}
