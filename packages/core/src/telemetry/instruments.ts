import type { Counter, Histogram, Meter, UpDownCounter } from "@opentelemetry/api";

/** The metrics carrot records, made once per connection from its meter. */
export interface Instruments {
  /** `messaging.client.sent.messages`: sends that ended, with `error.type` for those that failed. */
  readonly sent: Counter;
  /** `messaging.client.consumed.messages`: messages handed to the application. */
  readonly consumed: Counter;
  /** `carrot.messages.settled`: settles that succeeded, by `carrot.outcome`. */
  readonly settled: Counter;
  /** `carrot.messages.in_flight`: messages a consumer's callback (or handler) is working on. */
  readonly inFlight: UpDownCounter;
  /** `messaging.client.operation.duration`: sends and receives, in seconds. */
  readonly operationDuration: Histogram;
  /** `messaging.process.duration`: callbacks (or handlers), in seconds. */
  readonly processDuration: Histogram;
}

/** The conventions' buckets for messaging durations, in seconds. */
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

export function createInstruments(meter: Meter): Instruments {
  const duration = (description: string) => ({
    unit: "s",
    description,
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  return {
    sent: meter.createCounter("messaging.client.sent.messages", {
      unit: "{message}",
      description: "Messages the application sent: confirmed by the broker, or failed (error.type)",
    }),
    consumed: meter.createCounter("messaging.client.consumed.messages", {
      unit: "{message}",
      description: "Messages delivered to the application",
    }),
    settled: meter.createCounter("carrot.messages.settled", {
      unit: "{message}",
      description:
        "Messages settled, by carrot.outcome: acked, rejected, requeued, retried, dead_lettered",
    }),
    inFlight: meter.createUpDownCounter("carrot.messages.in_flight", {
      unit: "{message}",
      description: "Messages a consumer's callback is working on",
    }),
    operationDuration: meter.createHistogram(
      "messaging.client.operation.duration",
      duration("Duration of sends and receives"),
    ),
    processDuration: meter.createHistogram(
      "messaging.process.duration",
      duration("Duration of a consumer's callback on one message"),
    ),
  };
}
