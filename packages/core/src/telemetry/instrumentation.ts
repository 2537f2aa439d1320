/**
 * What Publisher, Consumer and Message see of a connection's telemetry:
 * carrot's types only, so that carrot's own declarations never name
 * `@opentelemetry/api`, which an application need not install.
 */
import type { Delivery, PublishRequest, RawMessage } from "../contract.js";
import type { SettleOperation, SettleOutcome } from "./semantic-attributes.js";

/** A connection's instrumentation (see telemetry.ts). Each `start` is undefined when nothing records. */
export interface Instrumentation {
  /** A send to `exchange` with `routingKey`. */
  startSend(exchange: string, routingKey: string): TracedOperation | undefined;
  /** A consumer's callback on one delivery from `queue`. */
  startProcess(queue: string, delivery: Delivery): TracedOperation | undefined;
  /** A `fetch()` from `queue`. */
  startReceive(queue: string): TracedOperation | undefined;
  /** Settling a delivery. */
  startSettle(operation: SettleOperation, delivery: Delivery): TracedOperation | undefined;
  /** A message an iterator handed to the application. */
  delivered(queue: string): void;
}

/** One operation being traced and measured (see messaging-operation.ts). */
export interface TracedOperation {
  /** Runs `work` in the operation's context. */
  run<R>(work: () => R): R;
  /** A message about to be sent: its attributes, and the trace context into its headers. */
  inject(request: PublishRequest): PublishRequest;
  /** What a receive returned. */
  received(message: RawMessage | undefined): void;
  /** Ends the operation when `promise` settles. */
  track(promise: Promise<void>, outcome?: SettleOutcome): Promise<void>;
  /** Ends the operation, failed with `error` if given; a settle says its `outcome`. */
  end(error?: unknown, outcome?: SettleOutcome): void;
}
