import type { SQSClient } from "@aws-sdk/client-sqs";
import { networkErrorCode } from "@carrot/core/backend";

/**
 * SQS has no connection to lose: every request opens or reuses an HTTP
 * connection, and the SDK retries a request whose connection broke. What an
 * application calls "disconnected" is then a request attempt that failed on
 * the network, and "reconnected" the first attempt that worked after it. A
 * middleware inside the SDK's retry loop sees every attempt, so a cut is
 * reported even when the retry hides it from the caller.
 */
export interface ReachabilityListener {
  /** An attempt failed on the network (called for each one). */
  down(error: Error): void;
  /** An attempt worked after `failedAttempts` that did not. */
  up(failedAttempts: number): void;
}

/** One state for all the clients of a backend: they reach the same SQS. */
export function watchReachability(listener: ReachabilityListener): {
  watch(client: SQSClient): void;
} {
  let failedAttempts = 0;
  const watch = (client: SQSClient) =>
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          const result = await next(args);
          if (failedAttempts > 0) {
            const attempts = failedAttempts;
            failedAttempts = 0;
            listener.up(attempts);
          }
          return result;
        } catch (error) {
          if (isNetworkError(error)) {
            if (failedAttempts++ === 0) listener.down(error as Error);
          }
          throw error;
        }
      },
      { step: "finalizeRequest", priority: "low", name: "carrotReachability" },
    );
  return { watch };
}

function isNetworkError(error: unknown): boolean {
  const e = error as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.$metadata?.httpStatusCode) return false; // SQS answered
  return (
    networkErrorCode(error) !== undefined || e?.name === "TimeoutError" || e?.name === "AbortError"
  );
}
