import {
  AuthenticationError,
  type CarrotError,
  ConnectionError,
  ConnectTimeoutError,
  InvalidOptionsError,
  NotFoundError,
} from "@carrot/core/backend";

/** What the SDK throws: service errors carry a name and `$fault`; network errors a Node `code`. */
interface AwsError extends Error {
  code?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
}

const AUTH_ERRORS = new Set([
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "InvalidSecurity",
  "ExpiredToken",
  "ExpiredTokenException",
  "AccessDenied",
  "AccessDeniedException",
  "KMS.AccessDeniedException",
]);

const MISSING_QUEUE = new Set(["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"]);

export function isMissingQueue(error: unknown): boolean {
  return error instanceof Error && MISSING_QUEUE.has(error.name);
}

/** A refusal by SQS itself (bad request, throttling aside): retrying the same request will not help. */
export function isClientFault(error: unknown): boolean {
  return (error as AwsError)?.$fault === "client";
}

/**
 * Turns an SDK failure into the carrot error that says what to do. `where`
 * names the endpoint (it never holds a secret: SQS credentials are not in URLs).
 */
export function translateAwsError(error: unknown, where: string, action: string): CarrotError {
  const e = error as AwsError;
  const name = e?.name ?? "";
  if (name === "CredentialsProviderError") {
    return new AuthenticationError(
      `no AWS credentials for ${where}: carrot takes them from the standard AWS provider chain only (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, an instance or task role); configure one of those`,
      { cause: error },
    );
  }
  if (AUTH_ERRORS.has(name)) {
    return new AuthenticationError(
      `SQS at ${where} refused the AWS credentials while trying to ${action} (${name}): check the access key, secret and permissions`,
      { cause: error },
    );
  }
  if (MISSING_QUEUE.has(name))
    return new NotFoundError(`cannot ${action}: the SQS queue does not exist at ${where}`, {
      cause: error,
    });
  if (name === "AbortError" || name === "TimeoutError") {
    return new ConnectTimeoutError(
      `no answer from SQS at ${where} in time to ${action}: check the region and endpoint, and the network`,
      { cause: error },
    );
  }
  if (e?.code === undefined && /region is missing|invalid region/i.test(e?.message ?? "")) {
    return new InvalidOptionsError(
      `cannot ${action}: ${e.message}; give a region (?region=eu-west-1 or AWS_REGION)`,
      { cause: error },
    );
  }
  if (e?.$fault === undefined || e.code !== undefined) {
    return new ConnectionError(
      `cannot reach SQS at ${where} to ${action} (${e?.code ?? name}): check the region and endpoint`,
      { cause: error },
    );
  }
  // A request SQS refused as malformed (a bad x-sqs-* attribute, an id it will not take): the caller's to fix.
  if (e.$fault === "client" && !/throttl/i.test(name)) {
    return new InvalidOptionsError(`SQS at ${where} refused to ${action}: ${name}: ${e.message}`, {
      cause: error,
    });
  }
  return new ConnectionError(`SQS at ${where} failed to ${action}: ${name}: ${e.message}`, {
    cause: error,
  });
}
