import { InvalidOptionsError, NotFoundError } from "@carrot/core/backend";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryBroker } from "../src/index.js";
import type { MemoryBackend } from "../src/memory-backend.js";
import { connectTo, declareQueue, drain, textMessage, textOf } from "./private-broker.js";

// Delays on the memory broker run on the global setTimeout and Date.now, so
// vitest's fake timers drive them: no test here waits for real time.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** A connection to a private broker with queue "q" and a direct exchange "x" routing "k" to it. */
async function broker(): Promise<MemoryBackend> {
  const backend = await connectTo();
  await declareQueue(backend, "q");
  await backend.declareExchange({ name: "x", type: "direct", durable: false, autoDelete: false });
  await backend.bindQueue({ queue: "q", exchange: "x", routingKey: "k" });
  return backend;
}

function sendLater(backend: MemoryBackend, text: string, delay: number, exchange = "x") {
  return backend.publish({
    exchange,
    routingKey: exchange === "" ? "q" : "k",
    mandatory: false,
    message: textMessage(text),
    delay,
  });
}

describe("a delayed message", () => {
  it("is not in its queue a millisecond before its delay has passed, and is at the delay", async () => {
    const backend = await broker();
    await sendLater(backend, "later", 1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await drain(backend, "q")).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await drain(backend, "q")).toEqual(["later"]);
  });

  it("sent with a 5 s delay before one with 1 s arrives after it: a short delay never waits behind a long one", async () => {
    const backend = await broker();
    const got: string[] = [];
    await backend.consume(
      "q",
      { prefetch: 0, noAck: true, exclusive: false, consumerTag: "c" },
      (delivery) => got.push(textOf(delivery)!),
    );
    await sendLater(backend, "five seconds", 5_000);
    await sendLater(backend, "one second", 1_000);
    // A queue hands a message to its consumers on a later turn (setImmediate,
    // which fake timers run one tick after the one it was queued in): 1 ms past due.
    await vi.advanceTimersByTimeAsync(999);
    expect(got).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(got).toEqual(["one second"]);
    await vi.advanceTimersByTimeAsync(3_998);
    expect(got).toEqual(["one second"]);
    await vi.advanceTimersByTimeAsync(2);
    expect(got).toEqual(["one second", "five seconds"]);
    await backend.close();
  });

  it("arrives in due order across many delays, and in send order where due at the same moment", async () => {
    const backend = await broker();
    // A fixed shuffle (no randomness in a test): delays 0..9 s, each sent twice.
    const delays = [7, 2, 9, 0, 4, 4, 1, 8, 3, 6, 5, 9, 0, 2, 7, 1, 3, 6, 8, 5].map(
      (s) => s * 1_000 + 1,
    );
    for (const [i, delay] of delays.entries()) await sendLater(backend, `${delay}:${i}`, delay);
    await vi.advanceTimersByTimeAsync(10_000);
    const expected = delays
      .map((delay, i) => ({ delay, i }))
      .sort((a, b) => a.delay - b.delay || a.i - b.i)
      .map(({ delay, i }) => `${delay}:${i}`);
    expect(await drain(backend, "q")).toEqual(expected);
  });

  it("goes behind what its queue received meanwhile, as any new message does", async () => {
    const backend = await broker();
    await sendLater(backend, "delayed", 1_000);
    await backend.publish({
      exchange: "x",
      routingKey: "k",
      mandatory: false,
      message: textMessage("at once"),
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await drain(backend, "q")).toEqual(["at once", "delayed"]);
  });

  it("is never early when the timer fires before the clock reaches its due time", async () => {
    const backend = await broker();
    await sendLater(backend, "later", 1_000);
    // The wall clock steps back 500 ms while the timer waits: the timer
    // fires after its 1000 ms, the clock says 500, and the broker waits on.
    vi.setSystemTime(Date.now() - 500);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await drain(backend, "q")).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    expect(await drain(backend, "q")).toEqual(["later"]);
  });

  it("waits longer than one setTimeout can (about 24.8 days) in steps, never early", async () => {
    const backend = await broker();
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const thirtyDays = 30 * 24 * 3_600_000;
    await sendLater(backend, "next month", thirtyDays);
    await vi.advanceTimersByTimeAsync(thirtyDays - 1);
    expect(await drain(backend, "q")).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await drain(backend, "q")).toEqual(["next month"]);
    const waits = setTimeoutSpy.mock.calls.map(([, ms]) => ms ?? 0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(waits.length).toBeLessThan(5); // steps of the longest wait, not a busy loop
  });

  it("is routed by the bindings in force when it is due, not those when it was sent", async () => {
    const backend = await broker();
    await declareQueue(backend, "other");
    await sendLater(backend, "rerouted", 1_000);
    await backend.unbindQueue({ queue: "q", exchange: "x", routingKey: "k" });
    await backend.bindQueue({ queue: "other", exchange: "x", routingKey: "k" });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await drain(backend, "q")).toEqual([]);
    expect(await drain(backend, "other")).toEqual(["rerouted"]);
  });

  it("on the default exchange reaches the queue named by its routing key if that exists when due, else is dropped", async () => {
    const backend = await broker();
    await sendLater(backend, "kept", 1_000, "");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await drain(backend, "q")).toEqual(["kept"]);
    await sendLater(backend, "dropped", 1_000, "");
    await backend.deleteQueue("q");
    await vi.advanceTimersByTimeAsync(1_000);
    await declareQueue(backend, "q");
    expect(await drain(backend, "q")).toEqual([]);
    await sendLater(backend, "to the new q", 1_000, "");
    await backend.deleteQueue("q");
    await declareQueue(backend, "q"); // a queue of that name again, before it is due
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await drain(backend, "q")).toEqual(["to the new q"]);
  });

  it("is dropped when its exchange was deleted while it waited, as an unroutable message is", async () => {
    const backend = await broker();
    await sendLater(backend, "orphan", 1_000);
    await sendLater(backend, "direct to q", 2_000, "");
    await backend.deleteExchange("x");
    await vi.advanceTimersByTimeAsync(2_000);
    // The broker carries on: the next message due is delivered.
    expect(await drain(backend, "q")).toEqual(["direct to q"]);
  });

  it("is refused at once when its exchange does not exist (NotFoundError), as without a delay", async () => {
    const backend = await broker();
    await expect(sendLater(backend, "nowhere", 1_000, "missing")).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("cannot be mandatory (InvalidOptionsError): whether it finds a queue is known only when due", async () => {
    const backend = await broker();
    const send = backend.publish({
      exchange: "x",
      routingKey: "k",
      mandatory: true,
      message: textMessage("mandatory"),
      delay: 1_000,
    });
    await expect(send).rejects.toBeInstanceOf(InvalidOptionsError);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await drain(backend, "q")).toEqual([]);
  });

  it("with delay 0 is published at once, mandatory allowed", async () => {
    const backend = await broker();
    await backend.publish({
      exchange: "x",
      routingKey: "k",
      mandatory: true,
      message: textMessage("now"),
      delay: 0,
    });
    expect(await drain(backend, "q")).toEqual(["now"]);
  });
});

describe("a delayed message and its queue's limits", () => {
  it("starts its TTL when its queue stores it, at the end of the delay", async () => {
    const backend = await broker();
    await backend.publish({
      exchange: "x",
      routingKey: "k",
      mandatory: false,
      message: textMessage("short-lived", { expiration: 500 }),
      delay: 1_000,
    });
    await vi.advanceTimersByTimeAsync(1_499);
    const delivery = await backend.get("q", { noAck: false });
    expect(textOf(delivery)).toBe("short-lived");
    await delivery!.reject(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(await drain(backend, "q")).toEqual([]);
  });

  it("counts against maxLength when it arrives, not while it waits", async () => {
    const backend = await connectTo();
    await declareQueue(backend, "q", { maxLength: 1, deadLetterExchange: "dlx" });
    await backend.declareExchange({
      name: "dlx",
      type: "fanout",
      durable: false,
      autoDelete: false,
    });
    await declareQueue(backend, "dead");
    await backend.bindQueue({ queue: "dead", exchange: "dlx", routingKey: "" });
    await sendLater(backend, "delayed", 1_000, "");
    await backend.publish({
      exchange: "",
      routingKey: "q",
      mandatory: false,
      message: textMessage("at once"),
    });
    expect(await drain(backend, "dead")).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    // The oldest makes room, dead-lettered as "maxlen", as on any arrival.
    expect(await drain(backend, "q")).toEqual(["delayed"]);
    const dead = await backend.get("dead", { noAck: true });
    expect(textOf(dead)).toBe("at once");
    expect((dead!.message.headers["x-death"] as { reason: string }[])[0]?.reason).toBe("maxlen");
  });
});

describe("delayed messages and the broker's lifetime", () => {
  it("are the broker's: routed when due after every connection closed, and found by the next one", async () => {
    const shared = new MemoryBroker();
    const first = await connectTo(shared);
    await declareQueue(first, "q");
    await sendLater(first, "outlives its sender", 1_000, "");
    await first.close();
    await vi.advanceTimersByTimeAsync(1_000);
    const next = await connectTo(shared);
    expect(await drain(next, "q")).toEqual(["outlives its sender"]);
    await next.close();
  });

  it("hold one timer per broker, unref'd: waiting messages never keep the process alive", async () => {
    const backend = await broker();
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    for (const delay of [3_000, 2_000, 1_000, 2_500]) await sendLater(backend, `${delay}`, delay);
    const armed = setTimeoutSpy.mock.results.map(({ value }) => value as NodeJS.Timeout);
    // Armed again only for a new earliest (3 s, then 2 s, then 1 s), never per message.
    expect(armed).toHaveLength(3);
    expect(armed.every((timer) => !timer.hasRef())).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    // 1 ms more for the queue's own dispatch turn (setImmediate, faked too).
    await vi.advanceTimersByTimeAsync(3_001);
    expect(await drain(backend, "q")).toEqual(["1000", "2000", "2500", "3000"]);
    expect(vi.getTimerCount()).toBe(0); // none armed once nothing waits
  });
});
