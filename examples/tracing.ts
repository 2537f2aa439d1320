/**
 * OpenTelemetry set up as an application sets it up, for the examples: a
 * context manager (so that a span follows the awaits of a callback), the W3C
 * trace-context propagator (which carrot uses to put the trace in each
 * message's headers) and a tracer provider. A real application adds an
 * exporter (OTLP, say) to the provider; carrot finds the SDK by itself.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";

let started = false;

/** Registers the SDK globally (once per process). */
export function startTracing(): void {
  if (started) return;
  started = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
}

/** The id of the trace the code runs in (in a callback: the message's), shortened for printing. */
export function currentTraceId(): string {
  return trace.getActiveSpan()?.spanContext().traceId.slice(0, 8) ?? "none";
}
