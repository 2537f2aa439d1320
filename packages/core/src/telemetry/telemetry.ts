import type {
  Attributes,
  Context,
  Link,
  MeterProvider,
  ProxyTracerProvider,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import { type Delivery, type Headers, REPLY_QUEUE_PREFIX } from "../contract.js";
import { InvalidOptionsError } from "../errors.js";
import { HEADER_GETTER } from "./header-carrier.js";
import type { Instrumentation } from "./instrumentation.js";
import { createInstruments, type Instruments } from "./instruments.js";
import {
  MessagingOperation,
  messageAttributes,
  type OperationScope,
} from "./messaging-operation.js";
import { apiLoadError, type OpenTelemetryApi, openTelemetryApi } from "./opentelemetry-api.js";
import {
  CARROT_ROUTING_KEY,
  DESTINATION,
  DESTINATION_TEMPORARY,
  OPERATION_NAME,
  OPERATION_TYPE,
  RABBITMQ_ROUTING_KEY,
  type SettleOperation,
  SYSTEM,
} from "./semantic-attributes.js";
import type { TelemetryOptions } from "./telemetry-options.js";

/** The instrumentation scope of carrot's spans and metrics. */
const SCOPE = "@carrot/core";

/**
 * A connection's instrumentation: makes the spans and records the metrics
 * of its sends, receives, callbacks and settles, following the
 * OpenTelemetry messaging conventions (span `{operation} {destination}`;
 * kinds PRODUCER for a send, whose context travels in the message as its
 * creation context; CONSUMER for a callback, a child of that context and
 * linked to it; CLIENT for a receive and a settle).
 *
 * Every operation first asks whether anything records: with the API but
 * no SDK registered, that is two lookups, and no span, context or
 * attribute is made. Once a real tracer (or meter) is found it is kept.
 */
export class Telemetry implements Instrumentation, OperationScope {
  /** The API the application installed. */
  readonly api: OpenTelemetryApi;
  /** Hidden from the errors recorded on spans. */
  readonly secrets: readonly (string | undefined)[];
  /** `messaging.system` of this connection. */
  readonly system: string;
  /** The routing key's attribute: RabbitMQ's own name on RabbitMQ, carrot's elsewhere. */
  readonly #routingKey: string;
  readonly #tracerProvider: TracerProvider | undefined;
  readonly #meterProvider: MeterProvider | undefined;
  #tracer?: Tracer;
  #instruments?: Instruments;
  /** The meter provider last found to give the no-op meter (no SDK registered yet). */
  #noopMeterProvider?: MeterProvider;

  constructor(
    api: OpenTelemetryApi,
    system: string,
    options: TelemetryOptions,
    secrets: readonly (string | undefined)[],
  ) {
    this.api = api;
    this.system = system;
    this.secrets = secrets;
    this.#routingKey = system === "rabbitmq" ? RABBITMQ_ROUTING_KEY : CARROT_ROUTING_KEY;
    this.#tracerProvider = options.tracerProvider as TracerProvider | undefined;
    this.#meterProvider = options.meterProvider as MeterProvider | undefined;
  }

  /**
   * A send to `exchange` with `routingKey`. Its span is a child of the
   * active context; its context goes into the message (`inject`).
   */
  startSend(exchange: string, routingKey: string): MessagingOperation | undefined {
    const tracer = this.#activeTracer();
    const instruments = this.#activeInstruments();
    if (tracer === undefined && instruments === undefined) return undefined;
    const destination = stableName(exchange || routingKey);
    const attributes = this.#attributes("send", "send", destination);
    if (tracer === undefined) return new MessagingOperation(this, "send", attributes, instruments);
    const parent = this.api.context.active();
    const span = tracer.startSpan(
      destination ? `send ${destination}` : "send",
      {
        kind: this.api.SpanKind.PRODUCER,
        attributes: this.#spanAttributes("send", "send", destination, routingKey),
      },
      parent,
    );
    const context = this.api.trace.setSpan(parent, span);
    return new MessagingOperation(this, "send", attributes, instruments, span, context);
  }

  /**
   * A consumer's callback (or handler) on one delivery from `queue`:
   * counts the message as consumed and in flight. Its span's parent is the
   * message's creation context (from its headers), linked as well, as the
   * conventions ask of a push consumer; a message without one (or with one
   * that does not parse) starts a trace.
   */
  startProcess(queue: string, delivery: Delivery): MessagingOperation | undefined {
    const tracer = this.#activeTracer();
    const instruments = this.#activeInstruments();
    if (tracer === undefined && instruments === undefined) return undefined;
    const attributes = this.#attributes("process", "process", queue);
    instruments?.consumed.add(1, attributes);
    instruments?.inFlight.add(1, attributes);
    if (tracer === undefined)
      return new MessagingOperation(this, "process", attributes, instruments);
    const { message, info } = delivery;
    const parent = this.extract(message.headers);
    const creation = this.api.trace.getSpanContext(parent);
    const links: Link[] | undefined =
      creation && this.api.isSpanContextValid(creation) ? [{ context: creation }] : undefined;
    const spanAttributes = this.#spanAttributes("process", "process", queue, info.routingKey);
    const span = tracer.startSpan(
      `process ${queue}`,
      {
        kind: this.api.SpanKind.CONSUMER,
        attributes: messageAttributes(message, spanAttributes),
        links,
      },
      parent,
    );
    const context = this.api.trace.setSpan(parent, span);
    return new MessagingOperation(this, "process", attributes, instruments, span, context);
  }

  /** A `fetch()` from `from`, or a reply received: its span is a child of the active context. */
  startReceive(from: string): MessagingOperation | undefined {
    const tracer = this.#activeTracer();
    const instruments = this.#activeInstruments();
    if (tracer === undefined && instruments === undefined) return undefined;
    const queue = stableName(from);
    const attributes = this.#attributes("receive", "receive", queue);
    const span = tracer?.startSpan(
      `receive ${queue}`,
      {
        kind: this.api.SpanKind.CLIENT,
        attributes: this.#spanAttributes("receive", "receive", queue, ""),
      },
      this.api.context.active(),
    );
    return new MessagingOperation(this, "receive", attributes, instruments, span);
  }

  /** Settling a delivery (`operation`: ack, reject, requeue, retry or dead_letter); a child of the active context. */
  startSettle(operation: SettleOperation, delivery: Delivery): MessagingOperation | undefined {
    const tracer = this.#activeTracer();
    const instruments = this.#activeInstruments();
    if (tracer === undefined && instruments === undefined) return undefined;
    const { queue } = delivery.info;
    const attributes = this.#attributes("settle", operation, queue);
    const span = tracer?.startSpan(
      `${operation} ${queue}`,
      {
        kind: this.api.SpanKind.CLIENT,
        attributes: messageAttributes(
          delivery.message,
          this.#spanAttributes("settle", operation, queue, ""),
        ),
      },
      this.api.context.active(),
    );
    return new MessagingOperation(this, "settle", attributes, instruments, span);
  }

  /** A message an iterator handed to the application: counted as consumed. */
  delivered(queue: string): void {
    this.#activeInstruments()?.consumed.add(1, this.#attributes("receive", "receive", queue));
  }

  /**
   * The context a received message was created in, from its headers.
   * Anyone can write a header: whatever a propagator makes of it, or
   * throws, it is at worst no context.
   */
  extract(headers: Headers): Context {
    try {
      return this.api.propagation.extract(this.api.ROOT_CONTEXT, headers, HEADER_GETTER);
    } catch {
      return this.api.ROOT_CONTEXT;
    }
  }

  /**
   * The tracer, once there is one that records: the given provider's, or
   * the global provider's once an SDK registered one. The global provider
   * is a proxy that hands out a no-op tracer until then; its delegate
   * tracer says whether there is a real one yet.
   */
  #activeTracer(): Tracer | undefined {
    if (this.#tracer !== undefined) return this.#tracer;
    const provider: TracerProvider & Partial<Pick<ProxyTracerProvider, "getDelegateTracer">> =
      this.#tracerProvider ?? this.api.trace.getTracerProvider();
    // Known by its method, not its class: another copy of the API may have made it.
    this.#tracer =
      typeof provider.getDelegateTracer === "function"
        ? provider.getDelegateTracer(SCOPE)
        : provider.getTracer(SCOPE);
    return this.#tracer;
  }

  /** The instruments, once a meter records: the global provider's meter is the no-op one until an SDK registers. */
  #activeInstruments(): Instruments | undefined {
    if (this.#instruments !== undefined) return this.#instruments;
    const provider = this.#meterProvider ?? this.api.metrics.getMeterProvider();
    // The provider whose meter was the no-op one still is: no need to ask it again, every message.
    if (provider === this.#noopMeterProvider) return undefined;
    const meter = provider.getMeter(SCOPE);
    if (meter === this.api.createNoopMeter()) {
      this.#noopMeterProvider = provider;
      return undefined;
    }
    this.#instruments = createInstruments(meter);
    return this.#instruments;
  }

  /** What every metric of an operation carries. */
  #attributes(type: string, name: string, destination: string): Attributes {
    return {
      [SYSTEM]: this.system,
      [OPERATION_TYPE]: type,
      [OPERATION_NAME]: name,
      [DESTINATION]: destination,
    };
  }

  /** What its span carries: the same, and the routing key when there is one (too varied for a metric). */
  #spanAttributes(type: string, name: string, destination: string, routingKey: string): Attributes {
    const attributes = this.#attributes(type, name, destination);
    if (routingKey) attributes[this.#routingKey] = routingKey;
    if (destination === TEMPORARY_NAME) attributes[DESTINATION_TEMPORARY] = true;
    return attributes;
  }
}

/** What span names and metrics call a destination made for one connection's replies. */
const TEMPORARY_NAME = "(temporary)";
/** Reply destinations: carrot's reply queues, and RabbitMQ's direct reply-to (`amq.rabbitmq.reply-to.<id>`). */
const TEMPORARY_PREFIXES = [REPLY_QUEUE_PREFIX, "amq.rabbitmq.reply-to"];

/**
 * A destination's name as spans and metrics carry it: a reply
 * destination's is generated per connection (or per request), so, as the
 * conventions ask of dynamic names, it is "(temporary)", which keeps span
 * names and metric series few.
 */
function stableName(destination: string): string {
  return TEMPORARY_PREFIXES.some((prefix) => destination.startsWith(prefix))
    ? TEMPORARY_NAME
    : destination;
}

/**
 * A connection's Telemetry: none with `telemetry: false` (the API is not
 * even loaded), nor when the application has not installed
 * `@opentelemetry/api` and did not ask for telemetry; an
 * InvalidOptionsError when it asked (`telemetry: {...}`) without it.
 */
export function createTelemetry(
  system: string,
  options: TelemetryOptions | false | undefined,
  secrets: readonly (string | undefined)[],
): Telemetry | undefined {
  if (options === false) return undefined;
  const api = openTelemetryApi();
  if (api !== undefined) return new Telemetry(api, system, options ?? {}, secrets);
  if (options === undefined) return undefined;
  throw new InvalidOptionsError(
    "telemetry needs @opentelemetry/api, which is not installed: add it to the application's dependencies, or leave the telemetry option out",
    { cause: apiLoadError() },
  );
}
