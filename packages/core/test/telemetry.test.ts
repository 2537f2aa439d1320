import {
  type Attributes,
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Connection } from "../src/connection.js";
import { Consumer } from "../src/consumer.js";
import type { Backend, Delivery, Headers, HeaderValue, RawMessage } from "../src/contract.js";
import { InvalidOptionsError, PublishNackedError } from "../src/errors.js";
import { Publisher } from "../src/publisher.js";
import { setOpenTelemetryLoader } from "../src/telemetry/opentelemetry-api.js";
import { plainCapabilities, quietBackend } from "./support/test-backend.js";

// Spans and metrics of a connection through the OpenTelemetry SDK's
// in-memory exporter and a metric reader the test collects by hand, on a
// loopback backend (what is sent to a queue is delivered to its consumer).
// Real brokers, the bridge and the four backends: tests/multi-broker.

/** A reader whose collect() the test calls. */
class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A fresh tracer and meter provider, each with what the test reads from. */
function sdk() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spans)],
  });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  /** The data points of metric `name` whose attributes include `match`. */
  const points = async (name: string, match: Attributes = {}): Promise<DataPoint<unknown>[]> => {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === name);
    return ((metric?.dataPoints ?? []) as DataPoint<unknown>[]).filter((point) =>
      Object.entries(match).every(([key, value]) => point.attributes[key] === value),
    );
  };
  /** The sum of counter (or up-down counter) `name` over the points matching. */
  const sum = async (name: string, match?: Attributes) =>
    (await points(name, match)).reduce((total, point) => total + (point.value as number), 0);
  /** How many values histogram `name` recorded over the points matching. */
  const recorded = async (name: string, match?: Attributes) =>
    (await points(name, match)).reduce(
      (total, point) => total + (point.value as Histogram).count,
      0,
    );
  return { spans, tracerProvider, meterProvider, points, sum, recorded };
}

/**
 * A backend named `name` that delivers what is sent to a queue to the
 * queue's consumer, or keeps it for `get`; `refuse` makes publishes fail.
 */
function loopbackBackend(name = "loopback") {
  const consumers = new Map<string, (delivery: Delivery) => void>();
  const queued = new Map<string, Delivery[]>();
  const settles: string[] = [];
  let tag = 0;
  const control = { refuse: undefined as Error | undefined };
  const deliver = (queue: string, message: RawMessage, exchange = "", routingKey = queue) => {
    const id = ++tag;
    const delivery: Delivery = {
      message: { ...message, headers: Object.assign(Object.create(null), message.headers) },
      info: { exchange, routingKey, redelivered: false, queue },
      ack: async () => {
        settles.push(`ack ${id}`);
      },
      reject: async (requeue) => {
        settles.push(`${requeue ? "requeue" : "reject"} ${id}`);
      },
    };
    const consumer = consumers.get(queue);
    if (consumer) consumer(delivery);
    else queued.set(queue, [...(queued.get(queue) ?? []), delivery]);
  };
  const backend: Backend = {
    ...quietBackend(name, plainCapabilities(1 << 20)),
    publish: async ({ routingKey, message }) => {
      if (control.refuse) throw control.refuse;
      deliver(routingKey, message);
    },
    get: async (queue) => queued.get(queue)?.shift() ?? null,
    consume: async (queue, options, onDelivery) => {
      consumers.set(queue, onDelivery);
      for (const delivery of queued.get(queue)?.splice(0) ?? []) onDelivery(delivery);
      return { consumerTag: options.consumerTag, cancel: async () => void consumers.delete(queue) };
    },
  };
  return { backend, settles, control, deliver };
}

/** A promise and what resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** The spans, by name. */
function byName(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((span) => span.name === name);
}

function spanId(span: ReadableSpan | undefined): string | undefined {
  return span?.spanContext().spanId;
}

beforeAll(() => {
  // What an application's SDK registers: the context manager (so that a
  // callback's work is a child of its span) and the W3C propagator.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(() => {
  context.disable();
  propagation.disable();
});

describe("tracing a send and its consumer", () => {
  it("a send is a PRODUCER span whose context the message carries; the callback a CONSUMER child of it; its ack a CLIENT child of that", async () => {
    const { spans, tracerProvider } = sdk();
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: { tracerProvider } });
    const consumer = new Consumer(connection, { queue: "orders" });
    const headers: Headers[] = [];
    consumer.registerCallback(async (_data, message) => {
      headers.push(message.headers);
      await message.ack();
    });
    await consumer.declare();
    const consumed = consumer.wait({ limit: 1 });
    await new Publisher(connection, { routingKey: "orders" }).send(
      { id: 1 },
      { messageId: "m-1", correlationId: "c-1" },
    );
    await consumed;
    await connection.close();

    const finished = spans.getFinishedSpans();
    expect(finished.map((span) => span.name).sort()).toEqual([
      "ack orders",
      "process orders",
      "send orders",
    ]);
    const [send] = byName(finished, "send orders");
    const [process] = byName(finished, "process orders");
    const [ack] = byName(finished, "ack orders");
    expect(send!.kind).toBe(SpanKind.PRODUCER);
    expect(send!.parentSpanContext).toBeUndefined();
    expect(send!.attributes).toEqual({
      "messaging.system": "loopback",
      "messaging.operation.type": "send",
      "messaging.operation.name": "send",
      "messaging.destination.name": "orders",
      "carrot.destination.routing_key": "orders",
      "messaging.message.id": "m-1",
      "messaging.message.conversation_id": "c-1",
      "messaging.message.body.size": JSON.stringify({ id: 1 }).length,
    });
    const traceId = send!.spanContext().traceId;
    expect(headers[0]!.traceparent).toBe(`00-${traceId}-${spanId(send)}-01`);

    expect(process!.kind).toBe(SpanKind.CONSUMER);
    expect(process!.spanContext().traceId).toBe(traceId);
    expect(process!.parentSpanContext?.spanId).toBe(spanId(send));
    expect(process!.links.map((link) => link.context.spanId)).toEqual([spanId(send)]);
    expect(process!.attributes).toEqual({
      "messaging.system": "loopback",
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.destination.name": "orders",
      "carrot.destination.routing_key": "orders",
      "messaging.message.id": "m-1",
      "messaging.message.conversation_id": "c-1",
      "messaging.message.body.size": JSON.stringify({ id: 1 }).length,
    });
    expect(process!.status.code).toBe(SpanStatusCode.UNSET);

    expect(ack!.kind).toBe(SpanKind.CLIENT);
    expect(ack!.parentSpanContext?.spanId).toBe(spanId(process));
    expect(ack!.attributes).toMatchObject({
      "messaging.operation.type": "settle",
      "messaging.operation.name": "ack",
      "messaging.destination.name": "orders",
      "carrot.outcome": "acked",
    });
  });

  it("a send to an exchange is named by the exchange, and is the child of the span active when it is made", async () => {
    const { spans, tracerProvider } = sdk();
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: { tracerProvider } });
    const publisher = new Publisher(connection, { exchange: "feed", routingKey: "news" });
    const tracer = tracerProvider.getTracer("test");
    await tracer.startActiveSpan("import", async (span) => {
      await publisher.send("x");
      span.end();
    });
    await connection.close();
    const [send] = byName(spans.getFinishedSpans(), "send feed");
    const [parent] = byName(spans.getFinishedSpans(), "import");
    expect(send!.parentSpanContext?.spanId).toBe(spanId(parent));
    expect(send!.attributes).toMatchObject({
      "messaging.destination.name": "feed",
      "carrot.destination.routing_key": "news",
    });
  });

  it("a callback that throws: its span has status ERROR, the exception and error.type; the policy's retry is a settle span in it", async () => {
    const { spans, tracerProvider } = sdk();
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: { tracerProvider } });
    const consumer = new Consumer(connection, {
      queue: "jobs",
      retry: { attempts: 2, backoff: { initial: 0, jitter: "none" } },
    });
    consumer.on("error", () => undefined);
    consumer.registerCallback(async (_data, message) => {
      if (message.deliveryCount === 1) throw new TypeError("no such job");
      await message.ack();
    });
    await consumer.declare();
    const consumed = consumer.wait({ limit: 2 });
    await new Publisher(connection, { routingKey: "jobs" }).send({ job: 1 });
    await consumed;
    await connection.close();

    const finished = spans.getFinishedSpans();
    const [send] = byName(finished, "send jobs");
    const processed = byName(finished, "process jobs");
    const failed = processed.find((span) => span.status.code === SpanStatusCode.ERROR);
    const succeeded = processed.find((span) => span !== failed);
    expect(failed!.status).toEqual({ code: SpanStatusCode.ERROR, message: "no such job" });
    expect(failed!.attributes["error.type"]).toBe("TypeError");
    expect(
      failed!.events.map((event) => [event.name, event.attributes?.["exception.message"]]),
    ).toEqual([["exception", "no such job"]]);
    const [retry] = byName(finished, "retry jobs");
    expect(retry!.parentSpanContext?.spanId).toBe(spanId(failed));
    expect(retry!.attributes["carrot.outcome"]).toBe("retried");
    // The copy keeps the message's creation context: the second delivery is the send's child too.
    expect(succeeded!.parentSpanContext?.spanId).toBe(spanId(send));
    expect(succeeded!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("a failed send: status ERROR, error.type, and no password in the recorded exception", async () => {
    const { spans, tracerProvider } = sdk();
    const { backend, control } = loopbackBackend();
    control.refuse = new PublishNackedError("the broker at amqp://guest:hunter2@h refused it");
    const connection = new Connection({
      backend,
      password: "hunter2",
      telemetry: { tracerProvider },
    });
    await expect(new Publisher(connection, { routingKey: "q" }).send("x")).rejects.toBe(
      control.refuse,
    );
    await connection.close();
    const [send] = byName(spans.getFinishedSpans(), "send q");
    expect(send!.status.code).toBe(SpanStatusCode.ERROR);
    expect(send!.attributes["error.type"]).toBe("PublishNackedError");
    const recorded = JSON.stringify([send!.status, send!.events]);
    expect(recorded).toContain("refused it");
    expect(recorded).not.toContain("hunter2");
  });

  it("fetch() is a CLIENT receive span, linked to the message's send", async () => {
    const { spans, tracerProvider } = sdk();
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: { tracerProvider } });
    const consumer = new Consumer(connection, { queue: "inbox" });
    await consumer.declare();
    await new Publisher(connection, { routingKey: "inbox" }).send("hello");
    const message = await consumer.fetch();
    await message!.ack();
    expect(await consumer.fetch()).toBeNull();
    await connection.close();
    const finished = spans.getFinishedSpans();
    const [send] = byName(finished, "send inbox");
    const [received, empty] = byName(finished, "receive inbox");
    expect(received!.kind).toBe(SpanKind.CLIENT);
    expect(received!.links.map((link) => link.context.spanId)).toEqual([spanId(send)]);
    expect(received!.attributes["messaging.message.body.size"]).toBe('"hello"'.length);
    expect(empty!.links).toEqual([]);
  });

  it("sendRaw replaces the trace context a message came with: a forwarded message continues the forward's trace", async () => {
    const { spans, tracerProvider } = sdk();
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: { tracerProvider } });
    const consumer = new Consumer(connection, { queue: "out" });
    const received: Headers[] = [];
    consumer.registerCallback(async (_data, message) => {
      received.push(message.headers);
      await message.ack();
    });
    await consumer.declare();
    const consumed = consumer.wait({ limit: 1 });
    const stale = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await new Publisher(connection, { routingKey: "out" }).sendRaw({
      body: new TextEncoder().encode('"x"'),
      contentType: "application/json",
      headers: { traceparent: stale, tracestate: "upstream=1", other: "kept" },
      properties: {},
    });
    await consumed;
    await connection.close();
    const [send] = byName(spans.getFinishedSpans(), "send out");
    expect(received[0]!.traceparent).toBe(`00-${send!.spanContext().traceId}-${spanId(send)}-01`);
    expect(received[0]!.tracestate).toBeUndefined(); // the upstream's, not the forward's
    expect(received[0]!.other).toBe("kept");
  });
});

describe("a hostile or malformed traceparent", () => {
  const hostile: HeaderValue[] = [
    "garbage",
    "00-00000000000000000000000000000000-0000000000000000-01", // the invalid ids
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // a forbidden version
    `00-${"a".repeat(32)}-${"b".repeat(16)}-01-${"x".repeat(1 << 20)}`, // a megabyte tail
    42,
    new Uint8Array([1, 2, 3]),
    { nested: "object" },
    ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
    null,
  ];

  it("neither throws nor wedges the consumer: each message is processed, in a span of its own trace", async () => {
    const { spans, tracerProvider } = sdk();
    const { backend, deliver } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: { tracerProvider } });
    const consumer = new Consumer(connection, { queue: "q" });
    const seen: number[] = [];
    consumer.registerCallback(async (data, message) => {
      seen.push(data as number);
      await message.ack();
    });
    await consumer.declare();
    for (const [n, traceparent] of hostile.entries()) {
      deliver("q", {
        body: new TextEncoder().encode(String(n)),
        contentType: "application/json",
        headers: { traceparent, tracestate: `k=${"v".repeat(100_000)}` },
        properties: {},
      });
    }
    await consumer.wait({ limit: hostile.length });
    await connection.close();
    expect(seen).toEqual(hostile.map((_, n) => n));
    const processed = byName(spans.getFinishedSpans(), "process q");
    expect(processed).toHaveLength(hostile.length);
    for (const span of processed) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
    }
  });

  it("a propagator that throws costs the trace, not the message", async () => {
    const { spans, tracerProvider } = sdk();
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: { tracerProvider } });
    const consumer = new Consumer(connection, { queue: "q" });
    consumer.registerCallback((_data, message) => message.ack());
    await consumer.declare();
    propagation.disable();
    propagation.setGlobalPropagator({
      inject: () => {
        throw new Error("inject");
      },
      extract: () => {
        throw new Error("extract");
      },
      fields: () => [],
    });
    try {
      const consumed = consumer.wait({ limit: 1 });
      await new Publisher(connection, { routingKey: "q" }).send(1);
      await consumed;
    } finally {
      propagation.disable();
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
    await connection.close();
    expect(byName(spans.getFinishedSpans(), "process q")[0]!.parentSpanContext).toBeUndefined();
  });
});

describe("metrics", () => {
  it("counts exactly: 5 sent, 5 consumed, 4 acked, 1 rejected, none in flight after; each send and callback timed", async () => {
    const { meterProvider, sum, recorded } = sdk();
    const { backend } = loopbackBackend("memory");
    const connection = new Connection({ backend, telemetry: { meterProvider } });
    const consumer = new Consumer<number>(connection, { queue: "tasks" });
    const inFlight: number[] = [];
    let handled = deferred();
    consumer.registerCallback(async (n, message) => {
      inFlight.push(
        await sum("carrot.messages.in_flight", { "messaging.destination.name": "tasks" }),
      );
      await (n === 3 ? message.reject() : message.ack());
    });
    consumer.onHandled(() => handled.resolve());
    await consumer.declare();
    const consumed = consumer.wait({ limit: 5 });
    const publisher = new Publisher(connection, { routingKey: "tasks" });
    for (let n = 1; n <= 5; n++) {
      // One at a time, so that the gauge reads the one message its callback works on.
      await publisher.send(n);
      await handled.promise;
      handled = deferred();
    }
    await consumed;
    await connection.close();

    const queue = { "messaging.system": "memory", "messaging.destination.name": "tasks" };
    expect(await sum("messaging.client.sent.messages", queue)).toBe(5);
    expect(await sum("messaging.client.consumed.messages", queue)).toBe(5);
    expect(await sum("carrot.messages.settled", { ...queue, "carrot.outcome": "acked" })).toBe(4);
    expect(await sum("carrot.messages.settled", { ...queue, "carrot.outcome": "rejected" })).toBe(
      1,
    );
    expect(await sum("carrot.messages.settled", queue)).toBe(5);
    expect(inFlight).toEqual([1, 1, 1, 1, 1]);
    expect(await sum("carrot.messages.in_flight", queue)).toBe(0);
    expect(await recorded("messaging.process.duration", queue)).toBe(5);
    const send = { ...queue, "messaging.operation.name": "send" };
    expect(await recorded("messaging.client.operation.duration", send)).toBe(5);
    // Settles are counted (above) and traced, not timed: one metric record less per message.
    const settles = { ...queue, "messaging.operation.type": "settle" };
    expect(await recorded("messaging.client.operation.duration", settles)).toBe(0);
  });

  it("retried and dead-lettered: the failure policy's paths, by outcome; a failed send by error.type", async () => {
    const { meterProvider, sum } = sdk();
    const { backend, control } = loopbackBackend("memory");
    const connection = new Connection({ backend, telemetry: { meterProvider } });
    const consumer = new Consumer(connection, {
      queue: "flaky",
      retry: { attempts: 2, backoff: { initial: 0, jitter: "none" }, exhausted: "drop" },
    });
    consumer.on("error", () => undefined);
    consumer.registerCallback(() => {
      throw new Error("always");
    });
    await consumer.declare();
    const consumed = consumer.wait({ limit: 2 });
    const publisher = new Publisher(connection, { routingKey: "flaky" });
    await publisher.send("once");
    await consumed;
    control.refuse = new PublishNackedError("no");
    await expect(publisher.send("refused")).rejects.toThrow(PublishNackedError);
    await connection.close();

    const queue = { "messaging.destination.name": "flaky" };
    expect(await sum("carrot.messages.settled", { ...queue, "carrot.outcome": "retried" })).toBe(1);
    expect(
      await sum("carrot.messages.settled", { ...queue, "carrot.outcome": "dead_lettered" }),
    ).toBe(1);
    expect(
      await sum("messaging.client.sent.messages", { "error.type": "PublishNackedError" }),
    ).toBe(1);
    // The policy's copy is part of its settle, not an application's send.
    expect(await sum("messaging.client.sent.messages", queue)).toBe(2);
  });

  it("an iterator's messages are counted as consumed", async () => {
    const { meterProvider, sum } = sdk();
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: { meterProvider } });
    const consumer = new Consumer(connection, { queue: "it" });
    await consumer.declare();
    const publisher = new Publisher(connection, { routingKey: "it" });
    await publisher.send(1);
    await publisher.send(2);
    let read = 0;
    for await (const message of consumer) {
      await message.ack();
      if (++read === 2) break;
    }
    await connection.close();
    expect(
      await sum("messaging.client.consumed.messages", { "messaging.destination.name": "it" }),
    ).toBe(2);
  });
});

describe("the global providers, the API and the option", () => {
  afterEach(() => {
    trace.disable();
    metrics.disable();
    setOpenTelemetryLoader();
  });

  it("by default records to the global providers, found once an SDK registers them after the connection was made", async () => {
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend });
    const consumer = new Consumer(connection, { queue: "q" });
    const headers: Headers[] = [];
    consumer.registerCallback(async (_data, message) => {
      headers.push(message.headers);
      await message.ack();
    });
    await consumer.declare();
    const publisher = new Publisher(connection, { routingKey: "q" });
    const first = consumer.wait({ limit: 1 });
    await publisher.send("before"); // no SDK yet: nothing recorded, nothing injected
    await first;
    const { spans, tracerProvider, meterProvider, sum } = sdk();
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    const second = consumer.wait({ limit: 1 });
    await publisher.send("after");
    await second;
    await connection.close();
    expect(headers[0]!.traceparent).toBeUndefined();
    expect(headers[1]!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(
      spans
        .getFinishedSpans()
        .map((span) => span.name)
        .sort(),
    ).toEqual(["ack q", "process q", "send q"]);
    expect(await sum("messaging.client.sent.messages")).toBe(1);
  });

  it("telemetry: false records nothing, with an SDK registered, and does not load the API", async () => {
    const { spans, tracerProvider, meterProvider, sum } = sdk();
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    const load = vi.fn(() => {
      throw new Error("not loaded");
    });
    setOpenTelemetryLoader(load);
    const { backend } = loopbackBackend();
    const connection = new Connection({ backend, telemetry: false });
    const consumer = new Consumer(connection, { queue: "q" });
    const headers: Headers[] = [];
    consumer.registerCallback(async (_data, message) => {
      headers.push(message.headers);
      await message.ack();
    });
    await consumer.declare();
    const consumed = consumer.wait({ limit: 1 });
    await new Publisher(connection, { routingKey: "q" }).send("x");
    await consumed;
    await connection.close();
    expect(load).not.toHaveBeenCalled();
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(await sum("messaging.client.sent.messages")).toBe(0);
    expect(headers[0]!.traceparent).toBeUndefined();
  });

  it("without @opentelemetry/api installed nothing fails; asking for telemetry then says what to install", async () => {
    const missing = Object.assign(new Error("Cannot find module '@opentelemetry/api'"), {
      code: "MODULE_NOT_FOUND",
    });
    const load = vi.fn(() => {
      throw missing;
    });
    setOpenTelemetryLoader(load);
    const { backend, settles } = loopbackBackend();
    const connection = new Connection({ backend });
    expect(connection.telemetry).toBeUndefined();
    const consumer = new Consumer(connection, { queue: "q" });
    consumer.registerCallback((_data, message) => message.ack());
    await consumer.declare();
    const consumed = consumer.wait({ limit: 1 });
    await new Publisher(connection, { routingKey: "q" }).send("x");
    await consumed;
    await connection.close();
    expect(settles).toEqual(["ack 1"]);
    new Connection({ backend }); // tried once per process, not per connection
    expect(load).toHaveBeenCalledTimes(1);

    const asked = () => new Connection({ backend, telemetry: {} });
    expect(asked).toThrow(InvalidOptionsError);
    expect(asked).toThrow(/@opentelemetry\/api, which is not installed/);
    try {
      asked();
    } catch (error) {
      expect((error as Error).cause).toBe(missing);
    }
  });

  it("a misspelt option names the closest; a provider that is not one is refused", () => {
    const { backend } = loopbackBackend();
    expect(() => new Connection({ backend, telementry: false } as never)).toThrow(
      /unknown option 'telementry' for a Connection; did you mean 'telemetry'\?/,
    );
    expect(() => new Connection({ backend, telemetry: { tracerProvder: {} } } as never)).toThrow(
      /unknown option 'tracerProvder' in telemetry; did you mean 'tracerProvider'\?/,
    );
    expect(() => new Connection({ backend, telemetry: true } as never)).toThrow(
      InvalidOptionsError,
    );
    expect(
      () => new Connection({ backend, telemetry: { meterProvider: { getTracer() {} } } } as never),
    ).toThrow(/telemetry.meterProvider must be an OpenTelemetry MeterProvider/);
  });
});
