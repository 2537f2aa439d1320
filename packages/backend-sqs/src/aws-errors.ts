import {
  AuthenticationError,
  type CarrotError,
  ConnectionError,
  ConnectTimeoutError,
  clientError,
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
 * Turns an SDK failure into the carrot error that says what to do, keeping
 * only a sanitized copy of the SDK's error (it holds the HTTP response, and
 * SQS quotes the signed request, session token included, when it refuses a
 * signature). `where` names the endpoint, redacted.
 */
export function translateAwsError(error: unknown, where: string, action: string): CarrotError {
  const e = error as AwsError;
  const name = e?.name ?? "";
  if (name === "CredentialsProviderError") {
    return clientError(
      AuthenticationError,
      `no AWS credentials for ${where}: carrot takes them from the standard AWS provider chain only (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, an instance or task role); configure one of those`,
      error,
    );
  }
  if (AUTH_ERRORS.has(name)) {
    return clientError(
      AuthenticationError,
      `SQS at ${where} refused the AWS credentials while trying to ${action} (${name}): check the access key, secret and permissions`,
      error,
    );
  }
  if (MISSING_QUEUE.has(name))
    return clientError(
      NotFoundError,
      `cannot ${action}: the SQS queue does not exist at ${where}`,
      error,
    );
  if (name === "AbortError" || name === "TimeoutError") {
    return clientError(
      ConnectTimeoutError,
      `no answer from SQS at ${where} in time to ${action}: check the region and endpoint, and the network`,
      error,
    );
  }
  if (e?.code === undefined && /region is missing|invalid region/i.test(e?.message ?? "")) {
    return clientError(
      InvalidOptionsError,
      `cannot ${action}: ${e.message}; give a region (?region=eu-west-1 or AWS_REGION)`,
      error,
    );
  }
  if (e?.$fault === undefined || e.code !== undefined) {
    return clientError(
      ConnectionError,
      `cannot reach SQS at ${where} to ${action} (${e?.code ?? name}): check the region and endpoint`,
      error,
    );
  }
  // A request SQS refused as malformed (a bad x-sqs-* attribute, an id it will not take): the caller's to fix.
  if (e.$fault === "client" && !/throttl/i.test(name)) {
    return clientError(
      InvalidOptionsError,
      `SQS at ${where} refused to ${action}: ${name}: ${e.message}`,
      error,
    );
  }
  return clientError(
    ConnectionError,
    `SQS at ${where} failed to ${action}: ${name}: ${e.message}`,
    error,
  );
}
