import { withTimeout } from "@carrot/conformance";
import { forward } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { PAIRS, urlOf } from "./support/brokers.js";
import { startChild } from "./support/child.js";
import { drain, ROUTING_KEY, Scene, WAIT_MS } from "./support/scene.js";

// A forwarding process killed (SIGKILL) in the middle of its work, then a
// new forward finishes the job: every message of a numbered ledger arrives,
// at least once; those the killed process had sent and seen confirmed but
// not acked at the source arrive twice. Memory is left out: its broker
// lives in one process, which no other process can reach.

const LEDGER = 20;
/** The child holds every forward from its 5th destination confirm on. */
const HOLD = 5;
/** A child Node process compiling the sources takes seconds on a loaded machine. */
const CHILD_START_MS = 60_000;

const PROCESS_PAIRS = PAIRS.filter(([from, to]) => from !== "memory" && to !== "memory");

describe.each(PROCESS_PAIRS)("forward() from %s to %s, its process killed", (from, to) => {
  const scene = new Scene();
  const killAtCleanUp: (() => void)[] = [];
  afterEach(async () => {
    for (const kill of killAtCleanUp.splice(0)) kill();
    await scene.cleanUp();
  });

  it("nothing is lost: every number arrives; the confirmed but unacked ones twice", async () => {
    const source = await scene.endpoint(from, "src");
    const target = await scene.endpoint(to, "dst");
    const sender = source.publisher(source.connection);
    for (let n = 0; n < LEDGER; n++) await sender.send(n, { routingKey: ROUTING_KEY });

    const child = startChild("forward-child.ts", [
      urlOf(from),
      source.queue,
      urlOf(to),
      target.exchange,
      String(HOLD),
    ]);
    killAtCleanUp.push(() => child.process.kill("SIGKILL"));
    await withTimeout(
      child.line(/^held /),
      CHILD_START_MS,
      "the child to hold a confirmed message",
    );
    child.process.kill("SIGKILL");
    const held = (await child.closed)
      .filter((line) => line.startsWith("held "))
      .map((line) => Number(line.slice("held ".length)));

    // A new forward, here: what the dead process held comes back to it once
    // the source broker notices (at once on RabbitMQ, after the lease on Redis and SQS).
    const bridge = forward(source.consumer(source.connection), target.publisher(target.connection));
    const counts = new Map<number, number>();
    const complete = () => counts.size === LEDGER && held.every((n) => (counts.get(n) ?? 0) >= 2);
    const reading = (async () => {
      for await (const message of target.consumer(target.connection)) {
        const n = message.payload as number;
        counts.set(n, (counts.get(n) ?? 0) + 1);
        await message.ack();
        if (complete()) break;
      }
    })();
    await withTimeout(reading, WAIT_MS, "every number, and the held ones twice", () =>
      JSON.stringify({ held, counts: [...counts] }),
    );
    await bridge.close();
    for (const late of await drain(target.consumer(target.connection))) {
      const n = late.payload as number;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }

    expect(held.length).toBeGreaterThan(0);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([...Array(LEDGER).keys()]);
    const duplicates = [...counts].filter(([, count]) => count > 1).map(([n]) => n);
    expect(duplicates).toEqual(expect.arrayContaining(held));
    console.log(
      `forward ${from} -> ${to}, killed: ${LEDGER} numbers all arrived; held (confirmed, not acked) ${JSON.stringify(held)}; duplicates ${JSON.stringify(duplicates.sort((a, b) => a - b))}`,
    );
    expect(await drain(source.consumer(source.connection)), "left in the source").toEqual([]);
  });
});
