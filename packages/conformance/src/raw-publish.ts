import type { Connection, Headers } from "@carrot/core";
import type { ForeignMessage } from "./options.js";

/**
 * The hostile group's raw writer for an in-process backend, where "another
 * client" is code that calls the backend without carrot's Publisher: the
 * backend's own publish to the queue, headers as they come.
 */
export async function publishRaw(
  connection: Connection,
  queue: string,
  { body, contentType, contentEncoding, headers = {} }: ForeignMessage,
): Promise<void> {
  const backend = await connection.ready();
  await backend.publish({
    exchange: "",
    routingKey: queue,
    mandatory: false,
    message: { body, contentType, contentEncoding, headers: headers as Headers, properties: {} },
  });
}
