import { randomBytes } from "node:crypto";

/**
 * Exchange and queue names unique to one copy of one case, so that cases
 * (and stress copies) sharing a broker never see each other's messages, and
 * so that leftovers on a real broker say which case made them. Short and
 * within [a-z0-9-] so that every broker's naming rules (SQS: 80 characters
 * of [A-Za-z0-9_-]) accept them unmapped.
 */
export function uniquePrefix(caseId: string): string {
  return `carrot-t-${randomBytes(4).toString("hex")}-${caseId}`.slice(0, 56);
}
