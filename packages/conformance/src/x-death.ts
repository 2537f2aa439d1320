import type { Message } from "@carrot/core";
import type { Expect } from "./runner.js";

/** Why and where a message died, as RabbitMQ records it. */
export interface Death {
  reason: "rejected" | "expired" | "maxlen";
  queue: string;
  exchange: string;
  routingKeys: string[];
}

/**
 * A dead-lettered message carries RabbitMQ's `x-death` record, newest death
 * first (reason, queue, exchange, routing-keys, count, time), and the
 * `x-first-death-reason/queue/exchange` headers: RabbitMQ writes them, and
 * carrot writes the same on the backends that dead-letter virtually, so
 * that code reading them works on every broker: `count` (one death here)
 * included; `time` only for being there.
 */
export function expectDeath(expect: Expect, letter: Message<unknown>, death: Death): void {
  const where = `the dead-lettered ${JSON.stringify(letter.payload)}`;
  const records = letter.headers["x-death"];
  const newest = (Array.isArray(records) ? records[0] : undefined) as
    | Record<string, unknown>
    | undefined;
  expect(
    newest && {
      reason: newest.reason,
      queue: newest.queue,
      exchange: newest.exchange,
      routingKeys: newest["routing-keys"],
      count: newest.count,
      timed: newest.time !== undefined,
    },
    `${where}: its newest x-death record (headers: ${JSON.stringify(letter.headers)})`,
  ).toEqual({ ...death, count: 1, timed: true });
  expect(
    {
      reason: letter.headers["x-first-death-reason"],
      queue: letter.headers["x-first-death-queue"],
      exchange: letter.headers["x-first-death-exchange"],
    },
    `${where}: its x-first-death-* headers`,
  ).toEqual({ reason: death.reason, queue: death.queue, exchange: death.exchange });
}
