/**
 * What OpenTelemetry costs carrot: the same publish, consume and ack of
 * 256-byte JSON messages with telemetry off (`telemetry: false`), with
 * `@opentelemetry/api` installed but no SDK registered (the default: each
 * operation only asks whether anything records), and on: an SDK recording
 * every span (send, process, ack: three per message, batched to an exporter
 * that drops them) and every metric. All three are carrot, in turns in one
 * process; the figures are their medians, and the CPU per message that the
 * API alone and the SDK add to "off".
 */
import { randomUUID } from "node:crypto";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { context, propagation } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { compareRates, type Result, type Sample, type Scenario, sides } from "./compare.js";
import { timeRoundTrip } from "./payload.js";
import { spread } from "./report.js";

const BODY = 256;
const WINDOW = 1000;
const AMQP_URL = process.env.CARROT_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

/** Spans batched as an application exports them, then dropped: the SDK's work, no exporter's. */
const dropSpans: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};

/** A reader no one collects from: metrics are aggregated as they are recorded, never exported. */
class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

type Telemetry = "off" | "api" | "on";

/** What each side gives its Connection. */
function telemetryOption(telemetry: Telemetry) {
  if (telemetry === "off") return { telemetry: false as const };
  if (telemetry === "api") return {}; // the global providers, with no SDK behind them
  return {
    telemetry: {
      tracerProvider: new BasicTracerProvider({
        spanProcessors: [new BatchSpanProcessor(dropSpans, { maxQueueSize: 4 * WINDOW })],
      }),
      meterProvider: new MeterProvider({ readers: [new IdleReader()] }),
    },
  };
}

/** Publishes, consumes and acks `count` messages on a fresh queue of `url`. */
async function endToEnd(url: string, count: number, telemetry: Telemetry): Promise<Sample> {
  const connection = new Connection({ url, ...telemetryOption(telemetry) });
  const queue = `bench-otel-${randomUUID().slice(0, 8)}`;
  const consumer = new Consumer<{ id: number }>(connection, {
    queue,
    durable: false,
    autoDelete: true,
    prefetchCount: WINDOW,
  });
  let received = 0;
  consumer.registerCallback(async (_data, message) => {
    received++;
    await message.ack();
  });
  await consumer.declare();
  const publisher = new Publisher(connection, { routingKey: queue });
  const sample = await timeRoundTrip(connection, publisher, consumer, {
    count,
    window: WINDOW,
    size: BODY,
  });
  if (received !== count) throw new Error(`${telemetry}: received ${received} of ${count}`);
  return sample;
}

/** Medians of the three sides as plain figures, and what the API and the SDK add to "off". */
async function telemetryCost(url: string, count: number): Promise<Result> {
  // What an application's SDK registers once: a context manager and the W3C propagator.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const rounds = await compareRates(
    count,
    sides(
      () => endToEnd(url, count, "off"),
      () => endToEnd(url, count, "on"),
      { "api, no SDK": () => endToEnd(url, count, "api") },
    ),
  );
  const [off, on, api] = [rounds.sides.raw!, rounds.sides.carrot!, rounds.sides["api, no SDK"]!];
  const offCpu = spread(off.cpuMicrosPerMsg).median;
  const extra = (cpu: number[]) => Math.round((spread(cpu).median - offCpu) * 10) / 10;
  return {
    type: "figures",
    figures: {
      "off msgs/s": Math.round(spread(off.msgsPerSec).median),
      "API, no SDK msgs/s": Math.round(spread(api.msgsPerSec).median),
      "on msgs/s": Math.round(spread(on.msgsPerSec).median),
      "off CPU µs/msg": offCpu,
      "API, no SDK CPU µs/msg": spread(api.cpuMicrosPerMsg).median,
      "on CPU µs/msg": spread(on.cpuMicrosPerMsg).median,
      "API, no SDK extra CPU µs/msg": extra(api.cpuMicrosPerMsg),
      "on extra CPU µs/msg": extra(on.cpuMicrosPerMsg),
    },
  };
}

const title = (backend: string) =>
  `${backend}: publish + consume + ack with OpenTelemetry off, API without SDK, on (all carrot)`;

export default {
  "telemetry-memory": {
    title: title("memory"),
    run: () =>
      telemetryCost(`memory://bench-${randomUUID()}`, Number(process.env.BENCH_COUNT ?? 100_000)),
  },
  "telemetry-amqp": {
    title: title("RabbitMQ"),
    run: () => telemetryCost(AMQP_URL, Number(process.env.BENCH_COUNT ?? 10_000)),
  },
} satisfies Record<string, Scenario>;
