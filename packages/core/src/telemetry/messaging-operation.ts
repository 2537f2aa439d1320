import type { Attributes, Context, Exception, Span } from "@opentelemetry/api";
import type { Headers, PublishRequest, RawMessage } from "../contract.js";
import { redactText } from "../redact.js";
import { HEADER_SETTER } from "./header-carrier.js";
import type { TracedOperation } from "./instrumentation.js";
import type { Instruments } from "./instruments.js";
import type { OpenTelemetryApi } from "./opentelemetry-api.js";
import {
  BODY_SIZE,
  CONVERSATION_ID,
  ERROR_TYPE,
  MESSAGE_ID,
  OUTCOME,
  type SettleOutcome,
} from "./semantic-attributes.js";

/** Which metrics an operation records when it ends. */
export type OperationKind = "send" | "receive" | "process" | "settle";

/** What the operations of one connection share. */
export interface OperationScope {
  readonly api: OpenTelemetryApi;
  /** The connection's passwords and tokens, hidden from recorded errors. */
  readonly secrets: readonly (string | undefined)[];
  /** The context a received message was created in, read from its headers (the root context if none). */
  extract(headers: Headers): Context;
}

/**
 * One send, receive, process or settle as OpenTelemetry sees it: its span
 * (when a tracer records) and its duration and counts (when a meter
 * does). Made by `Telemetry`; ended once.
 */
export class MessagingOperation implements TracedOperation {
  readonly #scope: OperationScope;
  readonly #kind: OperationKind;
  /** `messaging.system`, the operation and its destination: what every metric of it carries. */
  readonly #attributes: Attributes;
  readonly #instruments: Instruments | undefined;
  readonly #span: Span | undefined;
  /** The span's context, in which the operation's own work runs. */
  readonly #context: Context | undefined;
  readonly #started = performance.now();

  /** @internal */
  constructor(
    scope: OperationScope,
    kind: OperationKind,
    attributes: Attributes,
    instruments: Instruments | undefined,
    span?: Span,
    context?: Context,
  ) {
    this.#scope = scope;
    this.#kind = kind;
    this.#attributes = attributes;
    this.#instruments = instruments;
    this.#span = span;
    this.#context = context;
  }

  /** Runs `work` with this operation's span as the active one: what it starts is a child of it. */
  run<R>(work: () => R): R {
    return this.#context === undefined ? work() : this.#scope.api.context.with(this.#context, work);
  }

  /**
   * A message about to be sent: its size and ids on the span, and the
   * span's context in its headers (`traceparent`, `tracestate`, through
   * the global propagator), in place of any it carried (a `tracestate`
   * the new context lacks included): a forwarded message continues the
   * trace of the forward.
   */
  inject(request: PublishRequest): PublishRequest {
    const span = this.#span;
    if (span === undefined) return request;
    span.setAttributes(messageAttributes(request.message, {}));
    const { headers } = request.message;
    const { propagation } = this.#scope.api;
    try {
      for (const field of propagation.fields()) delete headers[field];
      propagation.inject(this.#context!, headers, HEADER_SETTER);
    } catch {
      // A propagator that throws costs the message its trace, not its send.
    }
    return request;
  }

  /** A message a receive returned (none: nothing to note): counted, and linked to the context it was created in. */
  received(message: RawMessage | undefined): void {
    if (message === undefined) return;
    this.#instruments?.consumed.add(1, this.#attributes);
    const span = this.#span;
    if (span === undefined) return;
    span.setAttributes(messageAttributes(message, {}));
    const { api } = this.#scope;
    const context = api.trace.getSpanContext(this.#scope.extract(message.headers));
    // addLink came with API 1.9: on an older API the receive span goes without.
    if (context && api.isSpanContextValid(context)) span.addLink?.({ context });
  }

  /** Ends it when `promise` settles: as failed if it rejects (the rejection passes on). */
  track(promise: Promise<void>, outcome?: SettleOutcome): Promise<void> {
    return promise.then(
      () => this.end(undefined, outcome),
      (error: unknown) => {
        this.end(error);
        throw error;
      },
    );
  }

  /**
   * Ends the span and records the metrics. `error`: what it failed with
   * (`error.type`, the span's status and exception). `outcome`: how a
   * settle left the message; absent when the settle did not happen.
   */
  end(error?: unknown, outcome?: SettleOutcome): void {
    const failed = error !== undefined;
    const span = this.#span;
    if (span !== undefined) {
      if (failed) this.#failed(span, error);
      if (outcome !== undefined) span.setAttribute(OUTCOME, outcome);
      span.end();
    }
    const instruments = this.#instruments;
    if (instruments === undefined) return;
    const attributes = failed
      ? { ...this.#attributes, [ERROR_TYPE]: errorType(error) }
      : this.#attributes;
    const seconds = (performance.now() - this.#started) / 1000;
    switch (this.#kind) {
      case "send":
        instruments.sent.add(1, attributes);
        instruments.operationDuration.record(seconds, attributes);
        return;
      case "process":
        instruments.processDuration.record(seconds, attributes);
        instruments.inFlight.add(-1, this.#attributes);
        return;
      case "receive":
        instruments.operationDuration.record(seconds, attributes);
        return;
      case "settle":
        // Counted, not timed: a settle's duration is its span's, and every
        // message has one; each metric record costs a hash of its attributes.
        if (outcome !== undefined)
          instruments.settled.add(1, { ...this.#attributes, [OUTCOME]: outcome });
    }
  }

  /** Status ERROR, `error.type`, and the exception, with the connection's secrets hidden. */
  #failed(span: Span, error: unknown): void {
    const exception = exceptionOf(error, this.#scope.secrets);
    span.recordException(exception);
    span.setAttribute(ERROR_TYPE, errorType(error));
    span.setStatus({
      code: this.#scope.api.SpanStatusCode.ERROR,
      message: typeof exception === "string" ? exception : exception.message,
    });
  }
}

/** Adds the per-message attributes to `attributes`: body size, and the ids the message has. */
export function messageAttributes(message: RawMessage, attributes: Attributes): Attributes {
  attributes[BODY_SIZE] = message.body.byteLength;
  const { messageId, correlationId } = message.properties;
  if (messageId !== undefined) attributes[MESSAGE_ID] = messageId;
  if (correlationId !== undefined) attributes[CONVERSATION_ID] = correlationId;
  return attributes;
}

/** `error.type`: the error's class name, low in cardinality as the conventions ask. */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : "_OTHER";
}

/** The error as the span's exception event records it, with the connection's secrets hidden. */
function exceptionOf(error: unknown, secrets: readonly (string | undefined)[]): Exception {
  if (!(error instanceof Error)) return redactText(String(error), secrets);
  const exception: Exception = { name: error.name, message: redactText(error.message, secrets) };
  if (error.stack !== undefined) exception.stack = redactText(error.stack, secrets);
  const { code } = error as { code?: unknown };
  if (typeof code === "string" || typeof code === "number") exception.code = code;
  return exception;
}
