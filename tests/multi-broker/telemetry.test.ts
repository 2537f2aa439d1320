import { createRequire } from "node:module";
import { withTimeout } from "@carrot/conformance";
import { Connection, forward, type Headers, type Message } from "@carrot/core";
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
import { type DataPoint, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BROKERS, type Broker, urlOf } from "./support/brokers.js";
import { type Endpoint, ROUTING_KEY, Scene, WAIT_MS } from "./support/scene.js";

// Traces and metrics on the four real backends, through the OpenTelemetry
// SDK registered globally as an application registers it: the trace context
// travels in each backend's headers, a forward through the bridge is one
// trace, and the metrics count exactly. (Span and metric details on a test
// backend: packages/core/test/telemetry.test.ts.)

/** A reader whose collect() the test calls. */
class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const spans = new InMemorySpanExporter();
const reader = new ManualReader();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});

afterAll(() => {
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
});

/** The `messaging.system` of each broker. */
const SYSTEMS: Record<Broker, string> = {
  memory: "memory",
  rabbitmq: "rabbitmq",
  redis: "redis",
  sqs: "aws_sqs",
};

/** The routing key's attribute: RabbitMQ's conventional name there, carrot's elsewhere. */
function routingKeyAttribute(broker: Broker): string {
  return broker === "rabbitmq"
    ? "messaging.rabbitmq.destination.routing_key"
    : "carrot.destination.routing_key";
}

/** The one finished span named `name` (each test's names are its own). */
function span(name: string): ReadableSpan {
  const found = spans.getFinishedSpans().filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0]!;
}

function id(of: ReadableSpan): string {
  return of.spanContext().spanId;
}

/** The sum of counter `name` over the data points whose attributes include `match`. */
async function sum(name: string, match: Attributes): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  const points = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as DataPoint<number>[]);
  return points
    .filter((point) => Object.entries(match).every(([k, v]) => point.attributes[k] === v))
    .reduce((total, point) => total + point.value, 0);
}

/**
 * Consumes `count` messages of `endpoint` on `connection` with `callback`,
 * then stops; fails after WAIT_MS saying how many came.
 */
async function consume(
  endpoint: Endpoint,
  connection: Connection,
  count: number,
  callback: (message: Message) => Promise<void>,
): Promise<void> {
  const consumer = endpoint.consumer(connection);
  let came = 0;
  consumer.on("error", () => undefined); // what a test throws on purpose
  consumer.registerCallback((_data, message) => {
    came++;
    return callback(message);
  });
  await withTimeout(
    consumer.wait({ limit: count }),
    WAIT_MS,
    `${count} messages from ${endpoint.broker}`,
    () => `${came} came`,
  );
}

describe.each(BROKERS)("telemetry on %s", (broker) => {
  const scene = new Scene();
  afterEach(() => scene.cleanUp());

  it("the send's context travels in the headers: the callback's span is its child, the ack a child of that", async () => {
    const endpoint = await scene.endpoint(broker, "trace");
    const received: Headers[] = [];
    const consumed = consume(endpoint, endpoint.connection, 1, async (message) => {
      received.push(message.headers);
      await message.ack();
    });
    await endpoint
      .publisher(endpoint.connection)
      .send({ order: 1 }, { routingKey: ROUTING_KEY, messageId: "order-1" });
    await consumed;

    const send = span(`send ${endpoint.exchange}`);
    const process = span(`process ${endpoint.queue}`);
    const ack = span(`ack ${endpoint.queue}`);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toEqual({
      "messaging.system": SYSTEMS[broker],
      "messaging.operation.type": "send",
      "messaging.operation.name": "send",
      "messaging.destination.name": endpoint.exchange,
      [routingKeyAttribute(broker)]: ROUTING_KEY,
      "messaging.message.id": "order-1",
      "messaging.message.body.size": JSON.stringify({ order: 1 }).length,
    });
    const { traceId } = send.spanContext();
    expect(received[0]!.traceparent).toBe(`00-${traceId}-${id(send)}-01`);

    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(traceId);
    expect(process.parentSpanContext?.spanId).toBe(id(send));
    expect(process.links.map((link) => link.context.spanId)).toEqual([id(send)]);
    expect(process.attributes).toMatchObject({
      "messaging.system": SYSTEMS[broker],
      "messaging.operation.type": "process",
      "messaging.destination.name": endpoint.queue,
      [routingKeyAttribute(broker)]: ROUTING_KEY,
      "messaging.message.id": "order-1",
    });

    expect(ack.kind).toBe(SpanKind.CLIENT);
    expect(ack.parentSpanContext?.spanId).toBe(id(process));
    expect(ack.attributes).toMatchObject({
      "messaging.system": SYSTEMS[broker],
      "messaging.operation.type": "settle",
      "messaging.operation.name": "ack",
      "carrot.outcome": "acked",
    });
  });

  it("request-reply is one trace: the request's send, the responder's process, its reply's send; the requester's receive links to the reply", async () => {
    const endpoint = await scene.endpoint(broker, "rpc");
    const responder = endpoint.consumer(endpoint.connection);
    responder.registerCallback(async (_data, message) => {
      await message.reply({ ok: true });
      await message.ack();
    });
    await responder.declare();
    const serving = responder.wait({ limit: 1 });
    const requester = await scene.connect(broker);
    const reply = await endpoint
      .publisher(requester)
      .request({ ask: 1 }, { routingKey: ROUTING_KEY, timeout: WAIT_MS });
    await withTimeout(serving, WAIT_MS, "the responder's wait");
    expect(reply.payload).toEqual({ ok: true });

    const request = span(`send ${endpoint.exchange}`);
    const process = span(`process ${endpoint.queue}`);
    const { traceId } = request.spanContext();
    expect(process.parentSpanContext?.spanId).toBe(id(request));
    const replySends = spans
      .getFinishedSpans()
      .filter((s) => s.spanContext().traceId === traceId && s.name === "send (temporary)");
    expect(replySends.map((s) => s.parentSpanContext?.spanId)).toEqual([id(process)]);
    const replySend = replySends[0]!;
    expect(replySend.kind).toBe(SpanKind.PRODUCER);
    // The reply destination's generated name stays out of span names and metric series.
    expect(replySend.attributes).toMatchObject({
      "messaging.destination.name": "(temporary)",
      "messaging.destination.temporary": true,
    });
    const receives = spans
      .getFinishedSpans()
      .filter(
        (s) =>
          s.name === "receive (temporary)" &&
          s.links.some((link) => link.context.spanId === id(replySend)),
      );
    expect(receives.map((s) => s.kind)).toEqual([SpanKind.CLIENT]);
  });

  it("counts exactly: 5 sent, 5 consumed, 4 acked, 1 rejected; none left in flight", async () => {
    const endpoint = await scene.endpoint(broker, "count");
    const consumed = consume(endpoint, endpoint.connection, 5, async (message) => {
      await ((message.payload as number) === 3 ? message.reject() : message.ack());
    });
    const publisher = endpoint.publisher(endpoint.connection);
    for (let n = 1; n <= 5; n++) await publisher.send(n, { routingKey: ROUTING_KEY });
    await consumed;

    const system = { "messaging.system": SYSTEMS[broker] };
    const queue = { ...system, "messaging.destination.name": endpoint.queue };
    const sent = { ...system, "messaging.destination.name": endpoint.exchange };
    expect(await sum("messaging.client.sent.messages", sent)).toBe(5);
    expect(await sum("messaging.client.consumed.messages", queue)).toBe(5);
    expect(await sum("carrot.messages.settled", { ...queue, "carrot.outcome": "acked" })).toBe(4);
    expect(await sum("carrot.messages.settled", { ...queue, "carrot.outcome": "rejected" })).toBe(
      1,
    );
    expect(await sum("carrot.messages.in_flight", queue)).toBe(0);
  });

  it("telemetry: false records nothing and adds no header", async () => {
    const endpoint = await scene.endpoint(broker, "off");
    const off = new Connection({ url: urlOf(broker), telemetry: false });
    try {
      const received: Headers[] = [];
      const consumed = consume(endpoint, off, 1, async (message) => {
        received.push(message.headers);
        await message.ack();
      });
      await endpoint.publisher(off).send("quiet", { routingKey: ROUTING_KEY });
      await consumed;
      expect(received[0]!.traceparent).toBeUndefined();
    } finally {
      await off.close();
    }
    const mine = spans
      .getFinishedSpans()
      .filter((s) => s.name.endsWith(endpoint.exchange) || s.name.endsWith(endpoint.queue));
    expect(mine).toEqual([]);
    const destination = { "messaging.destination.name": endpoint.queue };
    expect(await sum("messaging.client.consumed.messages", destination)).toBe(0);
  });
});

describe("one trace through the bridge", () => {
  const scene = new Scene();
  afterEach(() => scene.cleanUp());

  it("RabbitMQ -> Redis: send -> the bridge's process -> the bridge's send -> the final process", async () => {
    const source = await scene.endpoint("rabbitmq", "from");
    const target = await scene.endpoint("redis", "to");
    const bridge = forward(source.consumer(source.connection), target.publisher(target.connection));
    try {
      const consumed = consume(target, target.connection, 1, (message) => message.ack());
      await source
        .publisher(source.connection)
        .send({ order: 7 }, { routingKey: ROUTING_KEY, messageId: "order-7" });
      await consumed;
    } finally {
      await bridge.close();
    }

    const producer = span(`send ${source.exchange}`);
    const bridgeProcess = span(`process ${source.queue}`);
    const bridgeSend = span(`send ${target.exchange}`);
    const final = span(`process ${target.queue}`);
    expect([producer, bridgeProcess, bridgeSend, final].map((s) => s.kind)).toEqual([
      SpanKind.PRODUCER,
      SpanKind.CONSUMER,
      SpanKind.PRODUCER,
      SpanKind.CONSUMER,
    ]);
    expect(producer.parentSpanContext).toBeUndefined();
    expect(bridgeProcess.parentSpanContext?.spanId).toBe(id(producer));
    expect(bridgeSend.parentSpanContext?.spanId).toBe(id(bridgeProcess));
    expect(final.parentSpanContext?.spanId).toBe(id(bridgeSend));
    const { traceId } = producer.spanContext();
    for (const s of [bridgeProcess, bridgeSend, final])
      expect(s.spanContext().traceId).toBe(traceId);
    expect(
      [producer, bridgeProcess, bridgeSend, final].map((s) => s.attributes["messaging.system"]),
    ).toEqual(["rabbitmq", "rabbitmq", "redis", "redis"]);
    expect(bridgeSend.attributes).toMatchObject({
      "messaging.destination.name": target.exchange,
      "carrot.destination.routing_key": ROUTING_KEY,
      "messaging.message.id": "order-7",
    });
    expect(final.attributes["messaging.message.id"]).toBe("order-7");
    // The bridge acks the source within its own process span, once Redis confirmed.
    expect(span(`ack ${source.queue}`).parentSpanContext?.spanId).toBe(id(bridgeProcess));
  });
});

/** amqplib, as the RabbitMQ backend has it: a client without carrot. */
const amqplib = createRequire(new URL("../../packages/backend-amqplib/", import.meta.url))(
  "amqplib",
) as {
  connect(url: string): Promise<{
    createConfirmChannel(): Promise<{
      publish(exchange: string, key: string, body: Buffer, options: object): boolean;
      waitForConfirms(): Promise<void>;
    }>;
    close(): Promise<void>;
  }>;
};

describe("a hostile or malformed traceparent from a raw client", () => {
  const scene = new Scene();
  afterEach(() => scene.cleanUp());

  it("neither throws nor wedges the consumer: each message is processed in a trace of its own", async () => {
    const endpoint = await scene.endpoint("rabbitmq", "hostile");
    const hostile: unknown[] = [
      "garbage",
      "00-00000000000000000000000000000000-0000000000000000-01",
      `00-${"a".repeat(32)}-${"b".repeat(16)}-01-${"x".repeat(30_000)}`, // within amqplib's 64 KiB of headers
      42,
      Buffer.from("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
      { nested: "table" },
    ];
    const raw = await amqplib.connect(urlOf("rabbitmq"));
    try {
      const channel = await raw.createConfirmChannel();
      for (const [n, traceparent] of hostile.entries()) {
        channel.publish(endpoint.exchange, ROUTING_KEY, Buffer.from(JSON.stringify(n)), {
          contentType: "application/json",
          headers: { traceparent, tracestate: `k=${"v".repeat(10_000)}` },
        });
      }
      await channel.waitForConfirms();
    } finally {
      await raw.close();
    }
    const seen: number[] = [];
    await consume(endpoint, endpoint.connection, hostile.length, async (message) => {
      seen.push(message.payload as number);
      await message.ack();
    });
    expect(seen.sort()).toEqual(hostile.map((_, n) => n));
    const processed = spans
      .getFinishedSpans()
      .filter((s) => s.name === `process ${endpoint.queue}`);
    expect(processed).toHaveLength(hostile.length);
    for (const s of processed) {
      expect(s.parentSpanContext).toBeUndefined();
      expect(s.links).toEqual([]);
      expect(s.status.code).toBe(SpanStatusCode.UNSET);
    }
  });
});

describe("the logger on a real broker", () => {
  const scene = new Scene();
  afterEach(() => scene.cleanUp());

  it("hears the connection, and a callback's error nobody listened for with its cause's message and stack", async () => {
    const endpoint = await scene.endpoint("rabbitmq", "log");
    const calls: [string, Record<string, unknown>, string][] = [];
    const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
      void calls.push([level, fields, message]);
    const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
    const logged = new Connection({ url: urlOf("rabbitmq"), logger });
    const boom = new TypeError("no such order");
    try {
      const consumer = endpoint.consumer(logged, { retry: { attempts: 1, exhausted: "drop" } });
      consumer.registerCallback(() => {
        throw boom;
      });
      await endpoint.publisher(logged).send("order", { routingKey: ROUTING_KEY });
      await withTimeout(consumer.wait({ limit: 1 }), WAIT_MS, "the message");
    } finally {
      await logged.close();
    }
    const host = new URL(urlOf("rabbitmq")).host;
    expect(calls.filter(([level]) => level === "info").map(([, , message]) => message)).toEqual([
      `carrot connected to ${host}`,
      `carrot closed its connection to ${host}`,
    ]);
    const warned = calls.filter(([level]) => level === "warn");
    expect(warned).toHaveLength(1);
    const [, fields, message] = warned[0]!;
    expect(message).toContain(`a callback on '${endpoint.queue}' threw`);
    expect(message).toContain("caused by TypeError: no such order");
    expect(fields.err).toBe(boom);
    expect((fields.err as Error).stack).toContain("telemetry.test.ts");
    const password = new URL(urlOf("rabbitmq")).password;
    if (password) expect(JSON.stringify(calls)).not.toContain(`:${password}@`);
  });
});
