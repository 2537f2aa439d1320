import type { Connection } from "@carrot/core";

/**
 * The error `connect()` fails with, the connection closed after it; for the
 * tests of bad URLs, wrong credentials and unreachable hosts. Throws if
 * connect succeeds, or if the error (message, stack, cause) or the
 * connection's description shows `secret`, the password the URL held.
 */
export async function connectFailure(connection: Connection, secret: string): Promise<Error> {
  let error: Error | undefined;
  try {
    await connection.connect();
  } catch (failure) {
    error = failure as Error;
  } finally {
    await connection.close();
  }
  if (!error) throw new Error("connect() succeeded");
  const cause = error.cause as Error | undefined;
  const shown = [error.message, error.stack, cause?.message, cause?.stack, String(connection)];
  // Not quoted here: that would show it too.
  if (shown.join("\n").includes(secret)) throw new Error("the connect failure shows the password");
  return error;
}
