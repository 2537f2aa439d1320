import { afterEach, describe, expect, it } from "vitest";
import { COMPRESSION_HEADER, compress } from "../src/codecs/compression.js";
import { Connection } from "../src/connection.js";
import { Consumer, type ConsumerOptions } from "../src/consumer.js";
import type { Backend, Delivery, PublishRequest } from "../src/contract.js";
import {
  type CallbackError,
  InvalidOptionsError,
  NotFoundError,
  UnroutableError,
} from "../src/errors.js";
import { FAILURE_HEADERS } from "../src/failure-record.js";
import { type ForwardOptions, forward } from "../src/forward.js";
import { Publisher, type PublisherOptions } from "../src/publisher.js";
import {
  type DeliveryShape,
  policyCapabilities,
  recordingBackend,
} from "./support/recording-backend.js";

// forward() between two recording backends: what it publishes (every byte
// and property, the routing key), in which order with the source's settle,
// and what a failing destination, a transform, maxInFlight and close() do.

type Recording = ReturnType<typeof recordingBackend>;

const open: Connection[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((connection) => connection.close()));
});

function connect(backend: Backend): Connection {
  const connection = new Connection({ backend });
  open.push(connection);
  return connection;
}

/** A delivery queued on `source`, and a promise of how it was settled: "ack", "requeue", "reject". */
function deliver(source: Recording, id: string, shape?: DeliveryShape): Promise<string> {
  const delivery: Delivery = source.deliver(id, shape);
  const { ack, reject } = delivery;
  return new Promise((resolve) => {
    delivery.ack = () => ack().then(() => resolve("ack"));
    delivery.reject = (requeue) =>
      reject(requeue).then(() => resolve(requeue ? "requeue" : "reject"));
  });
}

/** A source backend, a consumer of its queue q, and a destination backend with a publisher. */
function bridge(
  consumerOptions: Partial<ConsumerOptions> = {},
  publisherOptions: PublisherOptions = {},
) {
  const source = recordingBackend();
  // Priorities and expirations are properties a forwarded message keeps.
  const destination = recordingBackend(policyCapabilities({ priority: true, messageTtl: true }));
  const consumer = new Consumer(connect(source), { queue: "q", ...consumerOptions });
  const errors: CallbackError[] = [];
  consumer.on("error", (error) => errors.push(error as CallbackError));
  const publisher = new Publisher(connect(destination), publisherOptions);
  return { source, destination, consumer, publisher, errors };
}

/** Holds `backend`'s publishes until the test lets each go: `held` in the order they came. */
function holdPublishes(backend: Recording) {
  const held: { request: PublishRequest; confirm(): void; fail(error: Error): void }[] = [];
  let arrived: () => void = () => undefined;
  backend.publish = (request) =>
    new Promise<void>((confirm, fail) => {
      held.push({ request, confirm, fail });
      arrived();
    });
  /** Resolves once `count` publishes are held. */
  const holding = (count: number) =>
    new Promise<void>((resolve) => {
      arrived = () => held.length >= count && resolve();
      arrived();
    });
  return { held, holding };
}

describe("forward(): the message as it is", () => {
  it("sends body, content type, encoding, headers and properties as received, then acks", async () => {
    const { source, destination, consumer, publisher } = bridge();
    const body = compress(new TextEncoder().encode('{"n":1}'), "gzip");
    const timestamp = new Date("2026-02-03T04:05:06.789Z");
    const properties = {
      messageId: "m-1",
      correlationId: "c-1",
      replyTo: "replies",
      priority: 4,
      expiration: 60_000,
      timestamp,
      type: "order.created",
      appId: "shop",
      userId: "alice",
      deliveryMode: 1 as const,
    };
    const settled = deliver(source, "m", {
      headers: { [COMPRESSION_HEADER]: "application/x-gzip", app: "kept" },
      message: { body, contentType: "application/json", contentEncoding: "utf-8", properties },
    });
    const handle = forward(consumer, publisher);
    expect(await settled).toBe("ack");
    await handle.close();
    expect(destination.published).toHaveLength(1);
    const [sent] = destination.published;
    expect(sent).toMatchObject({ exchange: "", routingKey: "k", mandatory: false });
    expect(Buffer.from(sent!.message.body).equals(Buffer.from(body))).toBe(true);
    expect(sent!.message.contentType).toBe("application/json");
    expect(sent!.message.contentEncoding).toBe("utf-8");
    expect({ ...sent!.message.headers }).toEqual({
      [COMPRESSION_HEADER]: "application/x-gzip",
      app: "kept",
    });
    const { userId: _, ...kept } = properties;
    expect(sent!.message.properties).toEqual(kept);
    expect(source.log).toEqual(["ack m"]);
  });

  it("a retried copy goes on with its first routing key and without the source's failure record", async () => {
    const { source, destination, consumer, publisher } = bridge();
    const at = new Date("2026-01-01T00:00:00Z");
    const settled = deliver(source, "m", {
      info: { exchange: "", routingKey: "q" },
      headers: {
        app: "kept",
        [FAILURE_HEADERS.attempts]: 2,
        [FAILURE_HEADERS.errorName]: "TypeError",
        [FAILURE_HEADERS.errorMessage]: "boom",
        [FAILURE_HEADERS.firstFailure]: at,
        [FAILURE_HEADERS.lastFailure]: at,
        [FAILURE_HEADERS.originalExchange]: "orders",
        [FAILURE_HEADERS.originalRoutingKey]: "order.created",
      },
    });
    const handle = forward(consumer, publisher);
    expect(await settled).toBe("ack");
    await handle.close();
    const [sent] = destination.published;
    expect(sent!.routingKey).toBe("order.created");
    expect({ ...sent!.message.headers }).toEqual({ app: "kept" });
  });

  it("the publisher's own routing key and headers win over the message's key, under its headers", async () => {
    const { source, destination, consumer, publisher } = bridge(
      {},
      { exchange: "out", routingKey: "fixed", headers: { origin: "bridge", app: "publisher's" } },
    );
    const settled = deliver(source, "m", { headers: { app: "message's" } });
    const handle = forward(consumer, publisher);
    expect(await settled).toBe("ack");
    await handle.close();
    const [sent] = destination.published;
    expect(sent).toMatchObject({ exchange: "out", routingKey: "fixed" });
    expect({ ...sent!.message.headers }).toEqual({ origin: "bridge", app: "message's" });
  });
});

describe("forward(): every destination confirms before the ack", () => {
  it("acks only once the last destination confirmed", async () => {
    const { source, consumer, publisher } = bridge();
    const second = recordingBackend();
    const { held, holding } = holdPublishes(second);
    const other = new Publisher(connect(second));
    const settled = deliver(source, "m");
    const handle = forward(consumer, [publisher, other]);
    await holding(1);
    // Let every pending callback run: the first destination has confirmed, the second not.
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.log).toEqual([]);
    held[0]!.confirm();
    expect(await settled).toBe("ack");
    await handle.close();
  });

  it("a destination that fails: no ack; the consumer's failure policy retries it at the source", async () => {
    const { source, destination, consumer, publisher, errors } = bridge({
      retry: { backoff: { initial: 0 } },
    });
    const failing = recordingBackend();
    const refusal = new UnroutableError("no queue bound for 'k'");
    failing.publish = () => Promise.reject(refusal);
    const settled = deliver(source, "m");
    const handle = forward(consumer, [publisher, new Publisher(connect(failing))]);
    // The policy acks the original once its copy is back on the source queue.
    expect(await settled).toBe("ack");
    await handle.close();
    expect(source.log).toEqual(["publish /q", "ack m"]);
    expect(source.published[0]!.message.headers[FAILURE_HEADERS.attempts]).toBe(1);
    expect(destination.published).toHaveLength(1); // at least once: this one gets it again
    expect(errors).toHaveLength(1);
    expect(errors[0]!.cause).toBe(refusal);
    expect(errors[0]!.message).toMatch(/the message was retried at once \(attempt 1 of 3\)$/);
  });
});

describe("forward(): transform", () => {
  const run = async (transform: ForwardOptions["transform"], shape?: DeliveryShape) => {
    const parts = bridge({ retry: { backoff: { initial: 0 } } }, { serializer: "text" });
    const settled = deliver(parts.source, "m", shape);
    const handle = forward(parts.consumer, parts.publisher, { transform });
    const how = await settled;
    await handle.close();
    return { ...parts, how };
  };

  it("null drops the message: acked, sent nowhere", async () => {
    const { how, destination, source } = await run(() => null);
    expect(how).toBe("ack");
    expect(destination.published).toEqual([]);
    expect(source.log).toEqual(["ack m"]);
  });

  it("a payload is encoded by the publisher; the received compression header is not carried", async () => {
    const { destination } = await run(
      (message) => ({
        payload: `id=${(message.payload as { id: string }).id}`,
        routingKey: "elsewhere",
      }),
      {
        headers: { [COMPRESSION_HEADER]: "application/x-gzip", app: "kept" },
        message: { body: compress(new TextEncoder().encode('{"id":"m"}'), "gzip") },
      },
    );
    const [sent] = destination.published;
    expect(sent!.routingKey).toBe("elsewhere");
    expect(Buffer.from(sent!.message.body).toString()).toBe("id=m");
    expect(sent!.message.contentType).toBe("text/plain");
    expect({ ...sent!.message.headers }).toEqual({ app: "kept" });
  });

  it("new headers on the body as it is keep its compression header", async () => {
    const { destination } = await run(() => ({ headers: { only: "this" } }), {
      headers: { [COMPRESSION_HEADER]: "application/x-gzip", app: "dropped" },
    });
    expect({ ...destination.published[0]!.message.headers }).toEqual({
      only: "this",
      [COMPRESSION_HEADER]: "application/x-gzip",
    });
  });

  it("a misspelt change is refused, not forwarded unchanged: the message is retried", async () => {
    const { how, destination, errors } = await run(() => ({ routingkey: "x" }) as never);
    expect(how).toBe("ack"); // the original, once its retry copy was sent
    expect(destination.published).toEqual([]);
    expect(errors[0]!.cause).toBeInstanceOf(InvalidOptionsError);
    expect((errors[0]!.cause as Error).message).toMatch(/'routingkey'.*'routingKey'/);
  });
});

describe("forward(): maxInFlight and close()", () => {
  it("forwards at most maxInFlight at once; close() lets those finish and hands back the rest", async () => {
    const { source, destination, consumer, publisher } = bridge({ prefetchCount: 10 });
    const { held, holding } = holdPublishes(destination);
    const settled = ["a", "b", "c", "d", "e"].map((id) => deliver(source, id));
    const handle = forward(consumer, publisher, { maxInFlight: 2 });
    await holding(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(held).toHaveLength(2);
    held[0]!.confirm();
    await holding(3);
    expect(await settled[0]).toBe("ack");

    let closed = false;
    const closing = handle.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false); // b and c are still waiting for their destination
    held[1]!.confirm();
    held[2]!.confirm();
    await closing;
    expect(await Promise.all(settled)).toEqual(["ack", "ack", "ack", "requeue", "requeue"]);
    expect(held.map((h) => Buffer.from(h.request.message.body).toString())).toEqual([
      '{"id":"a"}',
      '{"id":"b"}',
      '{"id":"c"}',
    ]);
  });

  it("done rejects when the source queue is deleted while forwarding", async () => {
    const { source, consumer, publisher } = bridge();
    const gone = new NotFoundError("queue 'q' was deleted");
    source.consume = async (_queue, options, _onDelivery, onBrokerCancel) => {
      queueMicrotask(() => onBrokerCancel?.(gone));
      return { consumerTag: options.consumerTag, cancel: async () => undefined };
    };
    consumer.on("error", () => undefined);
    const handle = forward(consumer, publisher);
    await expect(handle.done).rejects.toBe(gone);
    await handle.close();
  });

  it("refuses what cannot work: no publisher, a noAck consumer, an unknown option", () => {
    const { consumer, publisher } = bridge();
    expect(() => forward(consumer, [])).toThrow(/at least one publisher/);
    const noAck = bridge({ noAck: true });
    expect(() => forward(noAck.consumer, noAck.publisher)).toThrow(/noAck/);
    expect(() => forward(consumer, publisher, { maxInflight: 2 } as never)).toThrow(
      /'maxInflight'.*'maxInFlight'/,
    );
    expect(() => forward(consumer, publisher, { maxInFlight: 0 })).toThrow(InvalidOptionsError);
  });
});
