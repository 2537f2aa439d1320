/**
 * `@opentelemetry/api`, an optional peer dependency: loaded on the first
 * Connection whose `telemetry` is not `false`, with `require` (carrot is
 * ESM, and a Connection is built synchronously), and only if the
 * application installed it. Without it nothing is loaded and nothing is
 * traced or measured; with it, carrot uses the very instance the
 * application registered its SDK with (the API keeps its globals on
 * `globalThis`, shared by every copy of a major version).
 */
import { createRequire } from "node:module";

/** The API as carrot uses it. */
export type OpenTelemetryApi = typeof import("@opentelemetry/api");

// createRequire is called when loading, not when this module is: where it fails
// (a bundle without import.meta.url), telemetry is off, not the whole of carrot.
const loadInstalled = (): unknown => createRequire(import.meta.url)("@opentelemetry/api");

let load = loadInstalled;
/** The API once loaded; null when it could not be (not installed), with why in `loadError`. */
let loaded: OpenTelemetryApi | null | undefined;
let loadError: unknown;

/** The API, or undefined when the application has not installed it. Loaded once. */
export function openTelemetryApi(): OpenTelemetryApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = load() as OpenTelemetryApi;
    } catch (error) {
      loaded = null;
      loadError = error;
    }
  }
  return loaded ?? undefined;
}

/** Why the API could not be loaded, once `openTelemetryApi()` found it missing. */
export function apiLoadError(): unknown {
  return loadError;
}

/**
 * Replaces how the API is loaded, and forgets what was loaded: a test
 * passes a loader that throws to run as if it were not installed;
 * without an argument, the installed package again. @internal
 */
export function setOpenTelemetryLoader(loader: () => unknown = loadInstalled): void {
  load = loader;
  loaded = undefined;
  loadError = undefined;
}
