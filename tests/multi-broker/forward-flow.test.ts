import { deferred, withTimeout } from "@carrot/conformance";
import { forward, type Message } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { PAIRS } from "./support/brokers.js";
import { drain, type Endpoint, ROUTING_KEY, receive, Scene, WAIT_MS } from "./support/scene.js";

// How many forwards run at once (maxInFlight), and what close() waits for:
// the messages in flight finish (confirmed, then acked), the others stay
// in the source queue.

const ids = (messages: Message[]) => messages.map((m) => m.payload as number).sort((a, b) => a - b);

/** Sends 0..count-1 to the source, in order. */
async function sendNumbers(source: Endpoint, count: number): Promise<void> {
  const sender = source.publisher(source.connection);
  for (let n = 0; n < count; n++) await sender.send(n, { routingKey: ROUTING_KEY });
}

describe.each(PAIRS)("forward() from %s to %s: flow", (from, to) => {
  const scene = new Scene();
  afterEach(() => scene.cleanUp());

  it("never more than maxInFlight forwards at once (counted in flight: started, not yet acked)", async () => {
    const [source, target] = [await scene.endpoint(from, "src"), await scene.endpoint(to, "dst")];
    await sendNumbers(source, 8);
    const consumer = source.consumer(source.connection, { prefetchCount: 10 });
    const started: Message[] = [];
    const waiting: (() => void)[] = [];
    let most = 0;
    // Each forward waits in its transform until 3 are in flight (or the last
    // has started): with no bound, the prefetched ones would all join them.
    const bridge = forward(consumer, target.publisher(target.connection), {
      maxInFlight: 3,
      transform: async (message) => {
        started.push(message);
        const inFlight = started.filter((m) => m.state === "pending").length;
        most = Math.max(most, inFlight);
        if (inFlight >= 3 || started.length === 8) for (const go of waiting.splice(0)) go();
        else await new Promise<void>((go) => waiting.push(go));
      },
    });
    const arrived = await receive(target.consumer(target.connection), 8, `from ${from}`);
    await bridge.close();
    expect(most).toBe(3);
    expect(ids(arrived)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(started.map((m) => m.state)).toEqual(Array(8).fill("acked"));
    expect(await drain(source.consumer(source.connection))).toEqual([]);
  });

  it("close() waits for the forwards in flight to be confirmed and acked; the rest stay at the source", async () => {
    const [source, target] = [await scene.endpoint(from, "src"), await scene.endpoint(to, "dst")];
    await sendNumbers(source, 6);
    const consumer = source.consumer(source.connection, { prefetchCount: 10 });
    const started: Message[] = [];
    const twoStarted = deferred();
    const go = deferred();
    const bridge = forward(consumer, target.publisher(target.connection), {
      maxInFlight: 2,
      transform: async (message) => {
        if (started.push(message) === 2) twoStarted.resolve();
        await go.promise;
      },
    });
    await withTimeout(twoStarted.promise, WAIT_MS, "two forwards started");
    let closed = false;
    const closing = bridge.close().then(() => {
      closed = true;
    });
    // Every callback due has run: close() is still waiting for the two held in their transform.
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    go.resolve();
    await closing;

    expect(started.map((m) => m.state)).toEqual(["acked", "acked"]);
    const arrived = await drain(target.consumer(target.connection));
    expect(ids(arrived)).toEqual(ids(started));
    const left = await drain(source.consumer(source.connection));
    expect([...ids(started), ...ids(left)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
