import type { StandardSchemaV1 } from "@standard-schema/spec";
import { SchemaValidationError } from "./errors.js";

/** Any Standard Schema validator (zod, valibot, arktype, ...) checking payloads of type T. */
export type Schema<T = unknown> = StandardSchemaV1<unknown, T>;

function failure(where: string, issues: readonly StandardSchemaV1.Issue[]): SchemaValidationError {
  const summary = issues
    .slice(0, 3)
    .map(
      (issue) =>
        (issue.path?.length
          ? `${issue.path.map((p) => (typeof p === "object" ? p.key : p)).join(".")}: `
          : "") + issue.message,
    )
    .join("; ");
  const error = new SchemaValidationError(`${where} failed its schema: ${summary}`);
  error.issues = issues.map((issue) => ({ message: issue.message, path: issue.path }));
  return error;
}

export async function validate<T>(schema: Schema<T>, value: unknown, where: string): Promise<T> {
  const result = await schema["~standard"].validate(value);
  if (result.issues) throw failure(where, result.issues);
  return result.value;
}

/** For `message.decode()`, which is synchronous: asynchronous schemas are refused with a clear error. */
export function validateSync<T>(schema: Schema<T>, value: unknown, where: string): T {
  const result = schema["~standard"].validate(value);
  if (result instanceof Promise) {
    throw new SchemaValidationError(
      `${where}: the schema validates asynchronously; consume with a callback or an iterator, which await it, or use a synchronous schema with decode()`,
    );
  }
  if (result.issues) throw failure(where, result.issues);
  return result.value;
}
