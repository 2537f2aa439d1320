import { randomUUID } from "node:crypto";
import { deferred, withTimeout } from "@carrot/conformance";
import {
  type CallbackError,
  Connection,
  Consumer,
  type ConsumerOptions,
  ConsumerSet,
  DecodeError,
  EncodeError,
  InvalidOptionsError,
  type Message,
  MessageStateError,
  Publisher,
  SchemaValidationError,
  UnroutableError,
  UnsupportedFeatureError,
} from "@carrot/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { MemoryBackend, MemoryBroker } from "../src/index.js";

// Core's API, exercised on the memory backend: what the conformance suite does
// not cover because it is about core itself (schemas, subclassing, sets, policies).

const open: Connection[] = [];
function connect(): Connection {
  const connection = new Connection(`memory://core-api-${randomUUID()}`);
  open.push(connection);
  return connection;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe("schemas", () => {
  const Feed = z.object({ feed_url: z.string().url() });

  it("validates on send: a bad payload is refused and nothing is sent", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "q", exchange: "x", routingKey: "k" });
    await consumer.declare();
    const publisher = new Publisher<z.infer<typeof Feed>>(connection, {
      exchange: "x",
      routingKey: "k",
      schema: Feed,
    });
    const error = await publisher.send({ feed_url: "not a url" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaValidationError);
    expect((error as SchemaValidationError).issues[0]?.path).toEqual(["feed_url"]);
    expect(await consumer.fetch()).toBeNull();
  });

  it("validates on receive: an invalid message is rejected and reported, a valid one reaches the callback", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, {
      queue: "q",
      exchange: "x",
      routingKey: "k",
      schema: Feed,
      queueArguments: { deadLetterExchange: "dlx" },
    });
    const dead = new Consumer(connection, {
      queue: "dlq",
      exchange: "dlx",
      exchangeType: "fanout",
    });
    await Promise.all([consumer.declare(), dead.declare()]);
    const errors: unknown[] = [];
    consumer.on("error", (error) => errors.push(error));
    const seen: string[] = [];
    consumer.registerCallback(async (data, message) => {
      seen.push(data.feed_url);
      await message.ack();
    });
    const publisher = new Publisher(connection, { exchange: "x", routingKey: "k" });
    await publisher.send({ feed_url: 42 });
    await publisher.send({ feed_url: "http://cnn.com/rss/edition.rss" });
    await consumer.wait({ limit: 2 });
    expect(seen).toEqual(["http://cnn.com/rss/edition.rss"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SchemaValidationError);
    const deadLetter = await dead.fetch();
    expect(deadLetter?.decode()).toEqual({ feed_url: 42 });
  });
});

describe("publisher slots", () => {
  // With one slot, a send that kept it would leave the next one waiting for good.
  const sendAfterFailure = (publisher: Publisher<unknown>, n: number) =>
    withTimeout(publisher.send({ n }), 2_000, `send ${n} after a failure`);

  async function drain(consumer: Consumer): Promise<unknown[]> {
    const received = [];
    for (let message = await consumer.fetch(); message; message = await consumer.fetch()) {
      received.push(message.payload);
      await message.ack();
    }
    return received;
  }

  it("a failed send gives its slot back, whichever step it failed at", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "q", exchange: "x", routingKey: "k" });
    const publisher = new Publisher<unknown>(connection, {
      exchange: "x",
      routingKey: "k",
      maxInFlight: 1,
    });
    const next = (n: number) => sendAfterFailure(publisher, n);
    // Before connecting (the send that connects and declares):
    await expect(publisher.send({}, { priority: 300 })).rejects.toBeInstanceOf(InvalidOptionsError);
    await consumer.declare();
    await next(1);
    // Connected and declared (the send that goes straight on):
    await expect(publisher.send({}, { priority: 300 })).rejects.toBeInstanceOf(InvalidOptionsError);
    await next(2);
    await expect(publisher.send(undefined)).rejects.toBeInstanceOf(EncodeError);
    await next(3);
    await expect(publisher.send({}, { groupId: "g" })).rejects.toBeInstanceOf(
      UnsupportedFeatureError,
    );
    await next(4);
    await expect(
      publisher.send({}, { routingKey: "nowhere", mandatory: true }),
    ).rejects.toBeInstanceOf(UnroutableError);
    await next(5);
    // Two at once: the second waits for the slot, then goes.
    await Promise.all([next(6), next(7)]);
    await withTimeout(publisher.close(), 2_000, "close, which waits until no slot is held");
    expect(await drain(consumer)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => ({ n })));
  });

  it("a send its schema refuses gives its slot back", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "q", exchange: "x", routingKey: "k" });
    await consumer.declare();
    const publisher = new Publisher<unknown>(connection, {
      exchange: "x",
      routingKey: "k",
      maxInFlight: 1,
      schema: z.unknown().refine((data) => data !== "invalid"),
    });
    await expect(publisher.send("invalid")).rejects.toBeInstanceOf(SchemaValidationError);
    await sendAfterFailure(publisher, 1);
    expect(await drain(consumer)).toEqual([{ n: 1 }]);
  });
});

describe("Message settling", () => {
  it("settles once: a second ack, reject or requeue throws MessageStateError", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "q" });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q" }).send("once", {
      contentType: "text/plain",
    });
    const message = (await consumer.fetch())!;
    expect(message.state).toBe("pending");
    await message.ack();
    expect(message.acknowledged).toBe(true);
    await expect(message.ack()).rejects.toBeInstanceOf(MessageStateError);
    await expect(message.reject()).rejects.toBeInstanceOf(MessageStateError);
    await expect(message.requeue()).rejects.toThrow(/already acked/);
  });

  it("a noAck message cannot be settled", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "q", noAck: true });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q" }).send({ n: 1 });
    const message = (await consumer.fetch())!;
    expect(message.decode()).toEqual({ n: 1 });
    await expect(message.ack()).rejects.toThrow(/noAck/);
  });

  it("payload of an undecodable fetched message throws DecodeError, and the message stays settleable", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "q" });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q" }).send("{oops", {
      contentType: "application/json",
    });
    const message = (await consumer.fetch())!;
    expect(() => message.payload).toThrow(DecodeError);
    await message.reject();
    expect(await consumer.fetch()).toBeNull();
  });
});

describe("subclassing with static defaults", () => {
  class FeedPublisher extends Publisher<{ action: string; feed_url: string }> {
    static override defaults = { exchange: "feed", routingKey: "importer" };
    importFeed(url: string) {
      return this.send({ action: "import_feed", feed_url: url });
    }
  }
  class FeedConsumer extends Consumer<{ action: string; feed_url: string }> {
    static override defaults: ConsumerOptions = {
      queue: "feed",
      exchange: "feed",
      routingKey: "importer",
    };
    readonly imported: string[] = [];
    override async receive(data: { action: string; feed_url: string }, message: Message) {
      if (data.action !== "import_feed") throw new Error(`Unknown action: ${data.action}`);
      this.imported.push(data.feed_url);
      await message.ack();
    }
  }
  class UrgentFeedConsumer extends FeedConsumer {
    static override defaults = { queue: "urgent-feed", prefetchCount: 1 };
  }

  it("instances start from their class chain's defaults; options override them", () => {
    const connection = connect();
    expect(new FeedPublisher(connection).options).toMatchObject({
      exchange: "feed",
      routingKey: "importer",
    });
    expect(new FeedPublisher(connection, { routingKey: "other" }).options.routingKey).toBe("other");
    expect(new UrgentFeedConsumer(connection).options).toMatchObject({
      queue: "urgent-feed",
      exchange: "feed",
      routingKey: "importer",
      prefetchCount: 1,
    });
  });

  it("the seed's FeedPublisher/FeedConsumer pair works end to end", async () => {
    const connection = connect();
    const consumer = new FeedConsumer(connection);
    await consumer.declare();
    await new FeedPublisher(connection).importFeed("http://cnn.com/rss/edition.rss");
    await consumer.wait({ limit: 1 });
    expect(consumer.imported).toEqual(["http://cnn.com/rss/edition.rss"]);
  });
});

describe("the failure policy", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A consumer of q whose callback always throws; what it saw and what it reported. */
  function failing(connection: Connection, options: ConsumerOptions<{ n: number }> = {}) {
    const consumer = new Consumer<{ n: number }>(connection, { queue: "q", ...options });
    const seen: { n: number; count: number }[] = [];
    const reports: CallbackError[] = [];
    const deliveries = [deferred<void>(), deferred<void>(), deferred<void>()];
    const reported = [deferred<void>(), deferred<void>(), deferred<void>()];
    consumer.on("error", (error) => {
      reported[reports.push(error as CallbackError) - 1]?.resolve();
    });
    consumer.registerCallback((data, message) => {
      deliveries[seen.push({ n: data.n, count: message.deliveryCount }) - 1]?.resolve();
      throw new Error("boom");
    });
    return { consumer, seen, reports, deliveries, reported };
  }

  it("retries with backoff, then moves the message to the failed queue with its record; each step reported", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const start = Date.now();
    const connection = connect();
    const { consumer, seen, reports, deliveries, reported } = failing(connection, {
      retry: { attempts: 3, backoff: { initial: 1_000, factor: 2, jitter: "none" } },
    });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q" }).send({ n: 1 });
    const waiting = consumer.wait({ limit: 3 });
    await reported[0]!.promise; // the copy is held by the broker from here
    // Never early: at 999 ms of 1000 the copy is not delivered; at 1000 it is.
    await vi.advanceTimersByTimeAsync(999);
    expect(seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await deliveries[1]!.promise;
    await reported[1]!.promise;
    await vi.advanceTimersByTimeAsync(1_999);
    expect(seen).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(seen).toEqual([
      { n: 1, count: 1 },
      { n: 1, count: 2 },
      { n: 1, count: 3 },
    ]);
    expect(reports.map((error) => error.message)).toEqual([
      "a callback on 'q' threw; the message was retried in 1000 ms (attempt 1 of 3)",
      "a callback on 'q' threw; the message was retried in 2000 ms (attempt 2 of 3)",
      "a callback on 'q' threw; the message was moved to 'q.failed' after 3 attempts",
    ]);
    expect((reports[2]!.cause as Error).message).toBe("boom");
    expect(await consumer.fetch()).toBeNull();
    const failed = (await new Consumer(connection, { queue: "q.failed" }).fetch())!;
    expect(failed.payload).toEqual({ n: 1 });
    expect(failed.failure).toEqual({
      attempts: 3,
      errorName: "Error",
      errorMessage: "boom",
      firstFailure: new Date(start),
      lastFailure: new Date(start + 3_000),
      originalExchange: "",
      originalRoutingKey: "q",
    });
    expect(failed.deliveryInfo).toMatchObject({ exchange: "", routingKey: "q", queue: "q.failed" });
    expect(await new Consumer(connection, { queue: "q.failed" }).fetch()).toBeNull();
  });

  it("dead-letters through the queue's dead-letter exchange, once, with the record", async () => {
    const connection = connect();
    const { consumer, reports } = failing(connection, {
      exchange: "x",
      routingKey: "k",
      queueArguments: { deadLetterExchange: "dlx" },
      retry: { attempts: 2, backoff: { initial: 0 } },
    });
    const dead = new Consumer(connection, {
      queue: "dlq",
      exchange: "dlx",
      exchangeType: "fanout",
    });
    await Promise.all([consumer.declare(), dead.declare()]);
    await new Publisher(connection, { exchange: "x", routingKey: "k" }).send({ n: 1 });
    await consumer.wait({ limit: 2 });
    expect(reports.map((error) => error.message)).toEqual([
      "a callback on 'q' threw; the message was retried at once (attempt 1 of 2)",
      "a callback on 'q' threw; the message was dead-lettered to 'dlx' with routing key 'k' after 2 attempts",
    ]);
    const letter = (await dead.fetch())!;
    expect(letter.payload).toEqual({ n: 1 });
    expect(letter.failure).toMatchObject({
      attempts: 2,
      errorMessage: "boom",
      originalExchange: "x",
      originalRoutingKey: "k",
    });
    expect(letter.deliveryInfo).toMatchObject({ exchange: "dlx", routingKey: "k" });
    await letter.ack();
    expect(await dead.fetch()).toBeNull();
    expect(await consumer.fetch()).toBeNull();
  });

  it('"drop" drops the message after its attempts, and says so', async () => {
    const connection = connect();
    const { consumer, reports } = failing(connection, {
      retry: { attempts: 1, exhausted: "drop" },
    });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q" }).send({ n: 1 });
    await consumer.wait({ limit: 1 });
    expect(reports.map((error) => error.message)).toEqual([
      "a callback on 'q' threw; the message was dropped after 1 attempt (exhausted: \"drop\")",
    ]);
    expect(await consumer.fetch()).toBeNull();
  });

  it("a retried message goes behind the messages sent before it failed", async () => {
    const connection = connect();
    const consumer = new Consumer<string>(connection, {
      queue: "q",
      prefetchCount: 1,
      retry: { backoff: { initial: 0 } },
    });
    await consumer.declare();
    const publisher = new Publisher<string>(connection, { routingKey: "q", serializer: "text" });
    for (const text of ["a", "b", "c"]) await publisher.send(text);
    const order: string[] = [];
    consumer.on("error", () => undefined);
    consumer.registerCallback(async (data, message) => {
      order.push(data);
      if (data === "a" && message.deliveryCount === 1) throw new Error("a fails once");
      await message.ack();
    });
    await consumer.wait({ limit: 4 });
    expect(order).toEqual(["a", "b", "c", "a"]);
  });

  it("message.retry() from the iterator: the copy comes back with its count and record", async () => {
    const connection = connect();
    const consumer = new Consumer<string>(connection, { queue: "q" });
    await consumer.declare();
    await new Publisher<string>(connection, { routingKey: "q", serializer: "text" }).send("again");
    const seen: [string, number, number | undefined][] = [];
    for await (const message of consumer) {
      seen.push([message.payload, message.deliveryCount, message.failure?.attempts]);
      if (seen.length === 1) {
        await message.retry({ delay: 0 });
        expect(message.state).toBe("retried");
        continue;
      }
      await message.ack();
      break;
    }
    expect(seen).toEqual([
      ["again", 1, undefined],
      ["again", 2, 1],
    ]);
  });

  it("message.retry({ delay }) from fetch(): not delivered before the delay", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const connection = connect();
    const consumer = new Consumer<string>(connection, { queue: "q" });
    await consumer.declare();
    await new Publisher<string>(connection, { routingKey: "q", serializer: "text" }).send("later");
    await (await consumer.fetch())!.retry({ delay: 5_000 });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(await consumer.fetch()).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    const copy = (await consumer.fetch())!;
    expect([copy.payload, copy.deliveryCount, copy.failure?.errorName]).toEqual([
      "later",
      2,
      undefined,
    ]);
    await copy.ack();
  });

  it("send(data, { delay }): held by the broker until due", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const connection = connect();
    const consumer = new Consumer<string>(connection, { queue: "q" });
    await consumer.declare();
    const publisher = new Publisher<string>(connection, { routingKey: "q", serializer: "text" });
    await publisher.send("later", { delay: 1_000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(await consumer.fetch()).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect((await consumer.fetch())?.payload).toBe("later");
  });
});

describe("ConsumerSet", () => {
  it("consumes several queues in one loop with shared callbacks, up to a total limit", async () => {
    const connection = connect();
    const set = new ConsumerSet(connection, {
      queues: [
        { queue: "a", exchange: "x", routingKey: "a" },
        { queue: "b", exchange: "x", routingKey: "b" },
      ],
    });
    const seen: string[] = [];
    set.registerCallback(async (data, message) => {
      seen.push(`${message.deliveryInfo.queue}:${data}`);
      await message.ack();
    });
    await Promise.all(set.consumers.map((c) => c.declare()));
    const publisher = new Publisher(connection, { exchange: "x", serializer: "text" });
    await publisher.send("1", { routingKey: "a" });
    await publisher.send("2", { routingKey: "b" });
    await set.wait({ limit: 2 });
    expect(seen.sort()).toEqual(["a:1", "b:2"]);
  });
});

describe("async iteration", () => {
  it("yields messages in order; leaving the loop hands unread ones back", async () => {
    const connection = connect();
    const consumer = new Consumer<number>(connection, { queue: "q" });
    await consumer.declare();
    const publisher = new Publisher<number>(connection, { routingKey: "q" });
    await Promise.all([1, 2, 3, 4].map((n) => publisher.send(n)));
    const read: number[] = [];
    for await (const message of consumer) {
      read.push(message.payload);
      await message.ack();
      if (read.length === 2) break;
    }
    expect(read).toEqual([1, 2]);
    const rest: [number, boolean][] = [];
    for (let m = await consumer.fetch(); m; m = await consumer.fetch()) {
      rest.push([m.payload, m.deliveryInfo.redelivered]);
      await m.ack();
    }
    // 3 and 4 were delivered into the iterator's buffer, then handed back.
    expect(rest).toEqual([
      [3, true],
      [4, true],
    ]);
  });
});

describe("memory brokers", () => {
  it("connections to the same name share a broker; other names and private brokers are isolated", async () => {
    const name = `memory://shared-${randomUUID()}`;
    const a = new Connection(name);
    const b = new Connection(name);
    const other = new Connection(`memory://other-${randomUUID()}`);
    const isolated = new Connection({ backend: new MemoryBackend({ broker: new MemoryBroker() }) });
    open.push(a, b, other, isolated);
    await new Consumer(a, { queue: "q" }).declare();
    await new Publisher(b, { routingKey: "q" }).send("hi", { contentType: "text/plain" });
    expect((await new Consumer(a, { queue: "q" }).fetch())?.payload).toBe("hi");
    for (const connection of [other, isolated]) {
      expect(await new Consumer(connection, { queue: "q" }).fetch()).toBeNull();
    }
  });

  it("keeps the process alive while consuming, and lets it exit when done", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "q" });
    consumer.registerCallback(() => undefined);
    const started = deferred<void>();
    const waiting = consumer.wait();
    await consumer.declare();
    started.resolve();
    expect(process.getActiveResourcesInfo()).toContain("Timeout");
    await consumer.cancel();
    await waiting;
  });
});

describe("a queue deleted while consumed", () => {
  it("ends wait() with NotFoundError and reports it, instead of idling forever", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "doomed" });
    const errors: unknown[] = [];
    consumer.on("error", (error) => errors.push(error));
    const consuming = deferred<void>();
    consumer.registerCallback(async (_data, message) => {
      await message.ack();
      consuming.resolve();
    });
    await consumer.declare();
    const waiting = consumer.wait();
    await new Publisher(connection, { routingKey: "doomed" }).send("first");
    await consuming.promise; // subscribed and receiving
    await connection.deleteQueue("doomed");
    await expect(waiting).rejects.toThrow("queue 'doomed' was deleted while being consumed");
    expect(errors).toHaveLength(1);
  });
});

describe("a backend that no longer answers", () => {
  // A connection that died without a word: the cancel and the requeue go
  // out, and no answer ever comes back.
  class SilentBackend extends MemoryBackend {
    override async consume(...args: Parameters<MemoryBackend["consume"]>) {
      const [queue, options, onDelivery, ...rest] = args;
      const never = () => new Promise<void>(() => {});
      const subscription = await super.consume(
        queue,
        options,
        (delivery) => onDelivery({ ...delivery, reject: never }),
        ...rest,
      );
      return { ...subscription, cancel: never };
    }
  }

  it("close({ deadline }) returns all the same", async () => {
    const connection = new Connection({
      backend: new SilentBackend({ broker: new MemoryBroker() }),
    });
    open.push(connection);
    const consumer = new Consumer<string>(connection, { queue: "q" });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q", serializer: "text" }).send("held");
    const received = deferred<void>();
    consumer.registerCallback(() => received.resolve()); // left unsettled: close requeues it
    const waiting = consumer.wait();
    await received.promise;
    await withTimeout(consumer.close({ deadline: 50 }), 2_000, "close() on a silent backend");
    await withTimeout(waiting, 2_000, "wait() to end with the close");
  });
});

describe("a backend that delivers before consume() resolves", () => {
  // RabbitMQ can send the first messages in the same packet as consume-ok.
  class EagerBackend extends MemoryBackend {
    override async consume(...args: Parameters<MemoryBackend["consume"]>) {
      const [queue, options, onDelivery] = args;
      const early = await this.get(queue, { noAck: options.noAck });
      const subscription = await super.consume(...args);
      if (early) onDelivery(early);
      return subscription;
    }
  }

  it("wait({ limit }) handles the early delivery", async () => {
    const connection = new Connection({
      backend: new EagerBackend({ broker: new MemoryBroker() }),
    });
    open.push(connection);
    const consumer = new Consumer<string>(connection, { queue: "q" });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q", serializer: "text" }).send("early");
    const seen: string[] = [];
    consumer.registerCallback(async (data, message) => {
      seen.push(data);
      await message.ack();
    });
    await consumer.wait({ limit: 1 });
    expect(seen).toEqual(["early"]);
  });
});

describe("callbacks and the backend's delivery call", () => {
  // A backend may deliver the next message from inside an ack (the memory
  // backend's dispatch loop does): user code must not run inside that call.
  class WatchedBackend extends MemoryBackend {
    delivering = false;
    override consume(...args: Parameters<MemoryBackend["consume"]>) {
      const [queue, options, onDelivery] = args;
      return super.consume(queue, options, (delivery) => {
        this.delivering = true;
        try {
          onDelivery(delivery);
        } finally {
          this.delivering = false;
        }
      });
    }
  }

  it("run after the delivery call has returned, even when nothing is awaited", async () => {
    const backend = new WatchedBackend({ broker: new MemoryBroker() });
    const connection = new Connection({ backend });
    open.push(connection);
    const consumer = new Consumer<string>(connection, { queue: "q", prefetchCount: 1 });
    await consumer.declare();
    const publisher = new Publisher(connection, { routingKey: "q", serializer: "text" });
    for (const text of ["a", "b", "c"]) await publisher.send(text);
    const insideDelivery: boolean[] = [];
    consumer.registerCallback((_data, message) => {
      insideDelivery.push(backend.delivering);
      void message.ack();
    });
    await consumer.wait({ limit: 3 });
    expect(insideDelivery).toEqual([false, false, false]);
  });

  it("close({ deadline }) stops waiting for a callback that never ends, and hands its message back", async () => {
    const connection = connect();
    const consumer = new Consumer<string>(connection, { queue: "q" });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q", serializer: "text" }).send("stuck");
    const started = deferred<void>();
    consumer.registerCallback(() => {
      started.resolve();
      return new Promise(() => {}); // never settles
    });
    const waiting = consumer.wait();
    await started.promise;
    await consumer.close({ deadline: 50 });
    await waiting;
    const again = new Consumer<string>(connection, { queue: "q" });
    const message = await again.fetch();
    expect([message?.payload, message?.deliveryInfo.redelivered]).toEqual(["stuck", true]);
    await message?.ack();
  });
});

describe("leases", () => {
  it("extend() on a backend whose deliveries never expire is refused, not ignored", async () => {
    const connection = connect();
    const consumer = new Consumer<string>(connection, { queue: "q" });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "q" }).send("held");
    const message = await consumer.fetch();
    expect(connection.capabilities.leases).toBe(false);
    await expect(message?.extend(30)).rejects.toBeInstanceOf(UnsupportedFeatureError);
    expect(message?.state).toBe("pending"); // still the consumer's to settle
    await message?.ack();
  });
});
