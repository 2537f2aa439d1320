import { InvalidOptionsError } from "../errors.js";
import { checkOptionNames, TELEMETRY_OPTION_NAMES } from "../option-names.js";

/**
 * Where a Connection records its spans and metrics, through
 * `@opentelemetry/api` (an optional peer dependency: install it to have
 * any). Each provider left out is the global one, the one an SDK
 * registers (`NodeSDK.start()`), looked up again until one is registered:
 * a Connection made before the SDK starts records once it has.
 */
export interface TelemetryOptions {
  /** Where spans go; default the global TracerProvider. */
  tracerProvider?: TracerProviderLike;
  /** Where metrics go; default the global MeterProvider. */
  meterProvider?: MeterProviderLike;
}

/**
 * An OpenTelemetry `TracerProvider` (an SDK's, or a test's), typed here so
 * that carrot's types do not need `@opentelemetry/api` installed.
 */
export interface TracerProviderLike {
  /** Returns the tracer of an instrumentation scope. */
  getTracer(name: string, version?: string): unknown;
}

/** An OpenTelemetry `MeterProvider`, typed here as {@link TracerProviderLike} is. */
export interface MeterProviderLike {
  /** Returns the meter of an instrumentation scope. */
  getMeter(name: string, version?: string): unknown;
}

/** The `telemetry` option as given: checked, and copied. */
export function checkTelemetryOptions(
  input: TelemetryOptions | false | undefined,
): TelemetryOptions | false | undefined {
  if (input === undefined || input === false) return input;
  if (typeof input !== "object" || input === null)
    throw new InvalidOptionsError(
      `telemetry must be an object ({ tracerProvider, meterProvider }, either optional) or false, got ${input === null ? "null" : typeof input}`,
    );
  checkOptionNames(input, TELEMETRY_OPTION_NAMES, "in telemetry");
  const { tracerProvider, meterProvider } = input;
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== "function")
    throw new InvalidOptionsError(
      "telemetry.tracerProvider must be an OpenTelemetry TracerProvider (an object with getTracer())",
    );
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== "function")
    throw new InvalidOptionsError(
      "telemetry.meterProvider must be an OpenTelemetry MeterProvider (an object with getMeter())",
    );
  return { ...input };
}
