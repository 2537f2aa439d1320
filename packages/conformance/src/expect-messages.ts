import type { Message } from "@carrot/core";
import type { Expect } from "./runner.js";

/**
 * Assertions about which messages arrived, worded so that a failure is the
 * diagnosis: "expected exactly [m1, m2] once each; received m1 ×2, m2 ×0",
 * not "expected false to be true". They assert through the runner's
 * `expect`, with that sentence as its message, and compare counts per
 * payload, so that the runner's diff shows the same story.
 */

type Payloads = readonly unknown[] | readonly Message<unknown>[];

/** A payload in a line of a failure: text as is, the rest as JSON, bytes by their count; cut at 40. */
export function describePayload(payload: unknown): string {
  if (payload instanceof Uint8Array) return `<${payload.byteLength} bytes>`;
  const text =
    typeof payload === "string" && payload !== ""
      ? payload
      : (JSON.stringify(payload) ?? String(payload));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function asPayloads(items: Payloads): unknown[] {
  return items.map((item) => (isMessage(item) ? item.payload : item));
}

function isMessage(item: unknown): item is Message<unknown> {
  return typeof item === "object" && item !== null && "deliveryInfo" in item && "payload" in item;
}

/** How many times each payload occurs, keyed by its label, in first-seen order. */
export function tally(payloads: readonly unknown[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const payload of payloads) {
    const key = describePayload(payload);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** "m1 ×2, m2 ×0, x ×1 (unexpected)": the received count of every expected payload, then the rest. */
export function describeArrivals(
  expected: readonly unknown[],
  received: readonly unknown[],
): string {
  const want = tally(expected);
  const got = tally(received);
  const parts = Object.keys(want).map((key) => `${key} ×${got[key] ?? 0}`);
  for (const key of Object.keys(got))
    if (!(key in want)) parts.push(`${key} ×${got[key]} (unexpected)`);
  return parts.length > 0 ? parts.join(", ") : "nothing";
}

/** Exactly these payloads arrived, each as many times as it is listed, in any order. */
export function expectExactly(
  expect: Expect,
  received: Payloads,
  expected: readonly unknown[],
  where: string,
): void {
  const got = asPayloads(received);
  const wanted = Object.entries(tally(expected))
    .map(([key, n]) => (n === 1 ? key : `${key} ×${n}`))
    .join(", ");
  const once = Object.values(tally(expected)).every((n) => n === 1) ? " once each" : "";
  const sentence = `${where}: expected exactly [${wanted}]${once}; received ${describeArrivals(expected, got)}`;
  expect(sorted(tally(got)), sentence).toEqual(sorted(tally(expected)));
}

/** Exactly these payloads arrived, in this order. */
export function expectInOrder(
  expect: Expect,
  received: Payloads,
  expected: readonly unknown[],
  where: string,
): void {
  const got = asPayloads(received);
  const sentence = `${where}: expected [${expected.map(describePayload).join(", ")}] in this order; received [${got.map(describePayload).join(", ")}]`;
  expect(got.map(describePayload), sentence).toEqual(expected.map(describePayload));
}

/** Each message's `redelivered` flag, by payload: "m1 (redelivered: true)". */
export function expectRedelivered(
  expect: Expect,
  messages: readonly Message<unknown>[],
  redelivered: (message: Message<unknown>) => boolean,
  where: string,
): void {
  const wrong = messages.filter((m) => m.deliveryInfo.redelivered !== redelivered(m));
  const sentence = `${where}: wrong redelivered flag on ${wrong
    .map((m) => `${describePayload(m.payload)} (redelivered: ${m.deliveryInfo.redelivered})`)
    .join(", ")}`;
  expect(
    wrong.map((m) => describePayload(m.payload)),
    sentence,
  ).toEqual([]);
}

function sorted(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}
