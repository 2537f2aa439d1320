import { hash } from "node:crypto";

/**
 * SQS answers every send and every receive with the MD5 of the body it
 * holds. carrot compares it with the body itself, per message, and turns the
 * SDK's own check off (`md5: false`): the SDK encodes every body again to hash
 * it and fails a whole batch on one mismatch. For a send, that reports as
 * unknown nine messages SQS stored intact, and a retry duplicates them; for a
 * receive, it hides all ten until their visibility timeout runs out.
 */
export function bodyIntact(body: string, md5: string | undefined): boolean {
  return md5 === hash("md5", body);
}
