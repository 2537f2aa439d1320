import { describe, expect, it, vi } from "vitest";
import { acceptedContentTypes, DEFAULT_ACCEPT } from "../src/codecs/codec-registry.js";
import { Connection } from "../src/connection.js";
import { repliesOf } from "../src/connection-replies.js";
import type {
  Backend,
  ConsumeOptions,
  Delivery,
  PublishRequest,
  QueueDeclaration,
  RawMessage,
  ReplyHandlers,
} from "../src/contract.js";
import {
  ClosedError,
  ConnectionLostError,
  InvalidOptionsError,
  PublishNackedError,
  RequestTimeoutError,
  UnsupportedFeatureError,
} from "../src/errors.js";
import { Message } from "../src/message.js";
import { Publisher } from "../src/publisher.js";
import { plainCapabilities, quietBackend } from "./support/test-backend.js";

// Core's side of request-reply, on a backend whose reply destination the
// test drives: it hands replies in itself (`answer`), and reports the
// destination lost. The conformance group runs the same on real brokers.

const CAPABILITIES = plainCapabilities(64 * 1024);

function replyDelivery(correlationId: string | undefined, payload: unknown): Delivery {
  const message: RawMessage = {
    body: Buffer.from(JSON.stringify(payload)),
    contentType: "application/json",
    contentEncoding: "utf-8",
    headers: {},
    properties: correlationId === undefined ? {} : { correlationId },
  };
  const settled = () => Promise.reject(new Error("a reply is never settled"));
  return {
    message,
    info: { exchange: "", routingKey: "replies", redelivered: false, queue: "replies" },
    ack: settled,
    reject: settled,
  };
}

/** A backend with its own reply destination, recording what it is asked. */
function replyingBackend(overrides: Partial<Backend> = {}) {
  const published: PublishRequest[] = [];
  const opened: ReplyHandlers[] = [];
  const closed: string[] = [];
  const backend: Backend = {
    ...quietBackend("replying", CAPABILITIES),
    publish: async (request) => {
      published.push(request);
    },
    openReplies: async (handlers) => {
      opened.push(handlers);
      const replyTo = `replies-${opened.length}`;
      return { replyTo, close: async () => void closed.push(replyTo) };
    },
    ...overrides,
  };
  /** Answers the request with this correlation id, on the last destination opened. */
  const answer = (correlationId: string | undefined, payload: unknown) =>
    opened.at(-1)?.reply(replyDelivery(correlationId, payload));
  return { backend, published, opened, closed, answer };
}

async function requester(backend: Backend) {
  const connection = await new Connection({ backend }).connect();
  return { connection, publisher: new Publisher(connection, { routingKey: "service" }) };
}

describe("publisher.request()", () => {
  it("sends with a new correlation id and the connection's replyTo, and resolves to the reply, decoded on demand", async () => {
    const { backend, published, opened, answer } = replyingBackend();
    const { publisher } = await requester(backend);
    const first = publisher.request({ n: 1 });
    const second = publisher.request({ n: 2 }, { correlationId: "given" });
    await vi.waitFor(() => expect(published).toHaveLength(2));
    const [one, two] = published.map((r) => r.message.properties);
    expect(one?.replyTo).toBe("replies-1");
    expect(two?.replyTo).toBe("replies-1");
    expect(one?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(two?.correlationId).toBe("given");
    expect(published.map((r) => r.routingKey)).toEqual(["service", "service"]);
    answer("given", { doubled: 4 });
    answer(one?.correlationId, { doubled: 2 });
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBeInstanceOf(Message);
    expect([a.payload, b.payload]).toEqual([{ doubled: 2 }, { doubled: 4 }]);
    expect(a.noAck).toBe(true);
    expect(opened).toHaveLength(1);
    expect(repliesOf(publisher.connection).waiting).toBe(0);
  });

  it("refuses bad options before sending anything", async () => {
    const { backend, published } = replyingBackend();
    const { publisher } = await requester(backend);
    const refused = [
      { timout: 5 },
      { timeout: 0 },
      { timeout: 1.5 },
      { replyTo: "elsewhere" },
      { correlationId: "" },
      { signal: "stop" },
    ] as never[];
    for (const options of refused)
      await expect(publisher.request("x", options)).rejects.toBeInstanceOf(InvalidOptionsError);
    const waiting = publisher.request("x", { correlationId: "twice" });
    await expect(publisher.request("x", { correlationId: "twice" })).rejects.toThrow(
      /already waiting for its reply/,
    );
    await vi.waitFor(() => expect(published).toHaveLength(1));
    expect(published[0]?.message.properties.correlationId).toBe("twice");
    await publisher.connection.close();
    await expect(waiting).rejects.toBeInstanceOf(ClosedError);
  });

  it("rejects with RequestTimeoutError after its timeout, forgets it, and drops its reply when it comes late", async () => {
    const { backend, published, answer } = replyingBackend();
    const { publisher } = await requester(backend);
    await expect(publisher.request("slow", { timeout: 20 })).rejects.toBeInstanceOf(
      RequestTimeoutError,
    );
    expect(repliesOf(publisher.connection).waiting).toBe(0);
    const next = publisher.request("next");
    await vi.waitFor(() => expect(published).toHaveLength(2));
    answer(published[0]?.message.properties.correlationId, "late");
    answer("never-sent", "stray");
    answer(undefined, "no id");
    answer(published[1]?.message.properties.correlationId, "on time");
    expect((await next).payload).toBe("on time");
  });

  it("stops at its signal: before the send nothing is sent; after it, the reply is no longer awaited", async () => {
    const { backend, published } = replyingBackend();
    const { publisher } = await requester(backend);
    const before = new AbortController();
    before.abort(new Error("changed my mind"));
    await expect(publisher.request("x", { signal: before.signal })).rejects.toThrow(
      "changed my mind",
    );
    const after = new AbortController();
    const request = publisher.request("y", { signal: after.signal });
    await vi.waitFor(() => expect(published).toHaveLength(1));
    after.abort(new Error("no longer needed"));
    await expect(request).rejects.toThrow("no longer needed");
    expect(published.map((r) => r.message.body.toString())).toEqual(['"y"']);
    expect(repliesOf(publisher.connection).waiting).toBe(0);
  });

  it("is not sent when it times out while its send still waits (here for the connection)", async () => {
    let connect!: () => void;
    const connected = new Promise<void>((resolve) => {
      connect = resolve;
    });
    const { backend, published } = replyingBackend({ connect: () => connected });
    const connection = new Connection({ backend });
    const publisher = new Publisher(connection, { routingKey: "service" });
    await expect(publisher.request("too late", { timeout: 20 })).rejects.toBeInstanceOf(
      RequestTimeoutError,
    );
    connect();
    await connection.connect();
    // A request after it goes out: the one before it never will.
    const next = publisher.request("next", { timeout: 1000 });
    await vi.waitFor(() => expect(published).toHaveLength(1));
    expect(published[0]?.message.body.toString()).toBe('"next"');
    await connection.close();
    await expect(next).rejects.toBeInstanceOf(ClosedError);
  });

  it("rejects with the send's error when the request is not sent, and forgets it", async () => {
    const { backend } = replyingBackend({
      publish: () => Promise.reject(new PublishNackedError("refused")),
    });
    const { publisher } = await requester(backend);
    await expect(publisher.request("x")).rejects.toBeInstanceOf(PublishNackedError);
    expect(repliesOf(publisher.connection).waiting).toBe(0);
  });

  it("fails the waiting requests with ClosedError when the connection closes, and closes the destination first", async () => {
    const closedFirst: string[] = [];
    const { backend, published, closed } = replyingBackend({
      close: async () => void closedFirst.push(`backend after ${closed.length} destination(s)`),
    });
    const { connection, publisher } = await requester(backend);
    const waiting = [publisher.request("a"), publisher.request("b")];
    await vi.waitFor(() => expect(published).toHaveLength(2));
    await connection.close();
    for (const request of waiting) await expect(request).rejects.toBeInstanceOf(ClosedError);
    expect(closed).toEqual(["replies-1"]);
    expect(closedFirst).toEqual(["backend after 1 destination(s)"]);
  });

  it("fails the waiting requests when the destination is lost, and opens a new one for the next", async () => {
    const { backend, published, opened, closed, answer } = replyingBackend();
    const { publisher } = await requester(backend);
    const waiting = publisher.request("a");
    await vi.waitFor(() => expect(published).toHaveLength(1));
    opened[0]?.lost(new ConnectionLostError("channel gone"));
    await expect(waiting).rejects.toThrow("channel gone");
    await vi.waitFor(() => expect(closed).toEqual(["replies-1"]));
    const next = publisher.request("b");
    await vi.waitFor(() => expect(published).toHaveLength(2));
    expect(published[1]?.message.properties.replyTo).toBe("replies-2");
    answer(published[1]?.message.properties.correlationId, "from the new one");
    expect((await next).payload).toBe("from the new one");
  });

  it("tries again to open the destination at the next request after a failed open", async () => {
    let attempts = 0;
    const { backend, published } = replyingBackend();
    const open = backend.openReplies!;
    backend.openReplies = (handlers) =>
      ++attempts === 1 ? Promise.reject(new ConnectionLostError("not now")) : open(handlers);
    const { publisher } = await requester(backend);
    await expect(publisher.request("a")).rejects.toThrow("not now");
    void publisher.request("b").catch(() => undefined);
    await vi.waitFor(() => expect(published).toHaveLength(1));
    expect(attempts).toBe(2);
    await publisher.connection.close();
  });
});

describe("reply destinations core makes", () => {
  it("an exclusive queue, consumed with noAck, where the backend has exclusive queues and no openReplies; deleted at close", async () => {
    const declared: QueueDeclaration[] = [];
    const consumed: (ConsumeOptions & { queue: string })[] = [];
    const log: string[] = [];
    let deliver!: (delivery: Delivery) => void;
    const published: PublishRequest[] = [];
    const backend: Backend = {
      ...quietBackend("exclusive", { ...CAPABILITIES, exclusiveQueues: true }),
      declareQueue: async (queue) => void declared.push(queue),
      consume: async (queue, options, onDelivery) => {
        consumed.push({ queue, ...options });
        deliver = onDelivery;
        return { consumerTag: options.consumerTag, cancel: async () => void log.push("cancel") };
      },
      deleteQueue: async (name) => void log.push(`delete ${name}`),
      publish: async (request) => void published.push(request),
    };
    const { connection, publisher } = await requester(backend);
    const reply = publisher.request("ping");
    await vi.waitFor(() => expect(published).toHaveLength(1));
    const [queue] = declared;
    expect(queue).toMatchObject({ exclusive: true, durable: false, autoDelete: false });
    expect(queue?.name).toMatch(/^carrot-reply-[0-9a-f-]{36}$/);
    expect(consumed).toEqual([
      { queue: queue?.name, prefetch: 0, noAck: true, exclusive: true, consumerTag: queue?.name },
    ]);
    expect(published[0]?.message.properties.replyTo).toBe(queue?.name);
    deliver(replyDelivery(published[0]?.message.properties.correlationId, "pong"));
    expect((await reply).payload).toBe("pong");
    await connection.close();
    expect(log).toEqual(["cancel", `delete ${queue?.name}`]);
  });

  it("none where the backend has neither: UnsupportedFeatureError, nothing sent", async () => {
    const published: PublishRequest[] = [];
    const backend: Backend = {
      ...quietBackend("plain", CAPABILITIES),
      publish: async (request) => void published.push(request),
    };
    const { publisher } = await requester(backend);
    await expect(publisher.request("x")).rejects.toBeInstanceOf(UnsupportedFeatureError);
    expect(published).toEqual([]);
  });
});

describe("message.reply()", () => {
  const rules = { accepted: acceptedContentTypes(DEFAULT_ACCEPT), maxDecompressedSize: 1 << 20 };

  function request(connection: Connection | undefined, properties: RawMessage["properties"]) {
    const delivery: Delivery = {
      message: {
        body: Buffer.from('"question"'),
        contentType: "application/json",
        headers: { compression: "application/x-gzip", asked: "yes" },
        properties,
      },
      info: { exchange: "x", routingKey: "k", redelivered: false, queue: "service" },
      ack: async () => undefined,
      reject: async () => undefined,
    };
    return new Message(delivery, rules, { noAck: false, connection });
  }

  it("sends to the request's replyTo through the default exchange, with its correlation id, and nothing of the request", async () => {
    const { backend, published } = replyingBackend();
    const { connection } = await requester(backend);
    await request(connection, {
      replyTo: "their-queue",
      correlationId: "c-1",
      messageId: "m-1",
    }).reply({ answer: 42 }, { headers: { answered: "yes" } });
    await request(connection, { replyTo: "their-queue", messageId: "m-2" }).reply("by id");
    await request(connection, { replyTo: "their-queue", correlationId: "c-3" }).reply("mine", {
      correlationId: "own",
    });
    expect(
      published.map(({ exchange, routingKey, message }) => ({
        exchange,
        routingKey,
        correlationId: message.properties.correlationId,
        headers: { ...message.headers },
      })),
    ).toEqual([
      {
        exchange: "",
        routingKey: "their-queue",
        correlationId: "c-1",
        headers: { answered: "yes" },
      },
      { exchange: "", routingKey: "their-queue", correlationId: "m-2", headers: {} },
      { exchange: "", routingKey: "their-queue", correlationId: "own", headers: {} },
    ]);
    expect(published[0]?.message.body.toString()).toBe('{"answer":42}');
  });

  it("refuses a message without replyTo, a routing key of its own, and a message no consumer received", async () => {
    const { backend, published } = replyingBackend();
    const { connection } = await requester(backend);
    await expect(request(connection, {}).reply("x")).rejects.toThrow(/no replyTo/);
    await expect(
      request(connection, { replyTo: "q" }).reply("x", { routingKey: "other" } as never),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(request(undefined, { replyTo: "q" }).reply("x")).rejects.toBeInstanceOf(
      UnsupportedFeatureError,
    );
    expect(published).toEqual([]);
  });
});
