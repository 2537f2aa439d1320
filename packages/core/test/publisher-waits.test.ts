import { createHook } from "node:async_hooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Connection } from "../src/connection.js";
import { type Backend, PUBLISHED, type PublishRequest } from "../src/contract.js";
import { InvalidOptionsError, PublishTimeoutError } from "../src/errors.js";
import { Publisher } from "../src/publisher.js";
import { plainCapabilities, quietBackend } from "./support/test-backend.js";

// What a send does while it waits (for a slot, for the connection) and how
// its deadline and its AbortSignal end that wait. The backend here answers
// only when the test says so, so that sends stay in flight.

const CAPABILITIES = plainCapabilities(1024);

/** A backend whose publishes stay unanswered until `confirm`; `connected` gates its connect. */
function stalledBackend(connected: Promise<void> = Promise.resolve()) {
  const published: { request: PublishRequest; confirm: () => void }[] = [];
  const backend: Backend = {
    ...quietBackend("stalled", CAPABILITIES),
    connect: () => connected,
    publish: (request) =>
      new Promise<void>((confirm) => {
        published.push({ request, confirm });
      }),
  };
  return { backend, published };
}

/**
 * A publisher with one slot, on a connected stalled backend, past its first
 * send: from now on a send with its slot free goes to the backend at once.
 */
async function oneSlot(sendTimeout = 30_000) {
  const { backend, published } = stalledBackend();
  const connection = await new Connection({ backend }).connect();
  const publisher = new Publisher(connection, { routingKey: "q", maxInFlight: 1, sendTimeout });
  const first = publisher.send("connects and declares");
  await vi.waitFor(() => expect(published).toHaveLength(1));
  published.shift()?.confirm();
  await first;
  return { publisher, published };
}

/** The reason a promise rejects with (it must reject). */
function reason(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("it should have rejected"),
    (error: unknown) => error,
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe("a send waiting for a slot", () => {
  it("counts the wait against sendTimeout: rejects with PublishTimeoutError, nothing sent", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "performance"] });
    const { publisher, published } = await oneSlot(1000);
    const first = reason(publisher.send("in flight"));
    const second = reason(publisher.send("waits for a slot"));
    await vi.advanceTimersByTimeAsync(1200);
    const error = await second;
    expect(error).toBeInstanceOf(PublishTimeoutError);
    expect((error as Error).message).toMatch(/no slot .* never left, nothing was sent/);
    expect(await first).toBeInstanceOf(PublishTimeoutError);
    expect(published.map((p) => p.request.message.body.toString())).toEqual(['"in flight"']);
  });

  it("leaves the queue when its deadline passes while the slot is held (here: by a send waiting to connect)", async () => {
    let connect!: () => void;
    const { backend, published } = stalledBackend(
      new Promise<void>((resolve) => {
        connect = resolve;
      }),
    );
    const publisher = new Publisher(new Connection({ backend }), {
      routingKey: "q",
      maxInFlight: 1,
      sendTimeout: 50,
    });
    const first = publisher.send("holds the slot while connecting");
    // Several wait: each times out in turn, as it comes to the head of the queue.
    const errors = await Promise.all(
      ["a", "b", "c"].map((name) => reason(publisher.send(`waits for the slot: ${name}`))),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(PublishTimeoutError);
      expect((error as Error).message).toMatch(/nothing was sent/);
    }
    connect();
    await vi.waitFor(() => expect(published).toHaveLength(1));
    published[0]?.confirm();
    await first;
    // The timed-out send left the queue: the freed slot went to no one, and a new send goes at once.
    const third = publisher.send("after");
    expect(published).toHaveLength(2);
    published[1]?.confirm();
    await third;
  });
});

describe("send(data, { signal })", () => {
  it("an already aborted signal rejects at once with its reason, and sends nothing", async () => {
    const { publisher, published } = await oneSlot();
    const reasonGiven = new Error("the user left");
    expect(await reason(publisher.send("x", { signal: AbortSignal.abort(reasonGiven) }))).toBe(
      reasonGiven,
    );
    expect(published).toHaveLength(0);
    // It took no slot: the next send goes straight to the backend.
    const next = publisher.send("y");
    expect(published).toHaveLength(1);
    published[0]?.confirm();
    await next;
  });

  it("aborted while waiting for a slot: rejects with the reason, leaves the queue", async () => {
    const { publisher, published } = await oneSlot();
    const first = publisher.send("in flight");
    const controllers = Array.from({ length: 100 }, () => new AbortController());
    const waiting = controllers.map((c) => reason(publisher.send("waits", { signal: c.signal })));
    const last = publisher.send("waits, not aborted");
    for (const c of controllers) c.abort();
    for (const error of await Promise.all(waiting)) {
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe("AbortError");
    }
    expect(published).toHaveLength(1);
    // The aborted ones are gone from the queue: the freed slot goes straight to the live one.
    published[0]?.confirm();
    await first;
    await vi.waitFor(() => expect(published).toHaveLength(2));
    expect(published[1]?.request.message.body.toString()).toBe('"waits, not aborted"');
    published[1]?.confirm();
    await last;
  });

  it("a reason that is not an Error becomes an AbortError DOMException with it as cause", async () => {
    const { publisher, published } = await oneSlot();
    const first = publisher.send("in flight");
    const controller = new AbortController();
    const waiting = reason(publisher.send("waits", { signal: controller.signal }));
    controller.abort("changed my mind");
    const error = (await waiting) as DOMException;
    expect(error.name).toBe("AbortError");
    expect(error.cause).toBe("changed my mind");
    expect(published).toHaveLength(1);
    published[0]?.confirm();
    await first;
  });

  it("aborted while waiting for the connection: rejects, and is never handed to the backend", async () => {
    let connect!: () => void;
    const { backend, published } = stalledBackend(
      new Promise<void>((resolve) => {
        connect = resolve;
      }),
    );
    const connection = new Connection({ backend });
    const publisher = new Publisher(connection, { routingKey: "q" });
    const controller = new AbortController();
    const waiting = reason(publisher.send("x", { signal: controller.signal }));
    controller.abort(new Error("stop"));
    expect(((await waiting) as Error).message).toBe("stop");
    connect();
    await connection.connect();
    const after = publisher.send("y");
    await vi.waitFor(() => expect(published).toHaveLength(1));
    expect(published[0]?.request.message.body.toString()).toBe('"y"');
    published[0]?.confirm();
    await after;
  });

  it("once handed to the backend, a send is not abortable: it waits for the broker's answer", async () => {
    const { publisher, published } = await oneSlot();
    const controller = new AbortController();
    const sent = publisher.send("x", { signal: controller.signal });
    expect(published).toHaveLength(1);
    controller.abort();
    published[0]?.confirm();
    await expect(sent).resolves.toBeUndefined();
  });

  it("refuses a signal that is not an AbortSignal", async () => {
    const { publisher } = await oneSlot();
    await expect(publisher.send("x", { signal: {} as AbortSignal })).rejects.toThrow(
      InvalidOptionsError,
    );
  });
});

describe("a send the backend has before publish returns (PUBLISHED)", () => {
  it("frees its slot at once and sets no deadline: with one slot, every send of a turn reaches the backend in that turn", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const published: string[] = [];
    const backend: Backend = {
      ...quietBackend("in-process", CAPABILITIES),
      publish: (request) => {
        published.push(request.message.body.toString());
        return PUBLISHED;
      },
    };
    const connection = await new Connection({ backend }).connect();
    const publisher = new Publisher(connection, { routingKey: "q", maxInFlight: 1 });
    await publisher.send("connects and declares");
    const sends = [1, 2, 3].map((n) => publisher.send(n));
    expect(published).toEqual(['"connects and declares"', "1", "2", "3"]);
    expect(vi.getTimerCount()).toBe(0); // the deadline's sweep never started
    await expect(Promise.all(sends)).resolves.toEqual([undefined, undefined, undefined]);
  });

  it("is a promise async hooks can tag (OpenTelemetry's context tracking marks every promise it sees)", async () => {
    const hook = createHook({ init() {} }).enable();
    try {
      const backend: Backend = {
        ...quietBackend("in-process", CAPABILITIES),
        publish: () => PUBLISHED,
      };
      const publisher = new Publisher(await new Connection({ backend }).connect(), {
        routingKey: "q",
      });
      await expect(publisher.send("tagged")).resolves.toBeUndefined();
      await expect(PUBLISHED.then(() => "then")).resolves.toBe("then");
    } finally {
      hook.disable();
    }
  });
});
