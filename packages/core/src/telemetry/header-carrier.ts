import type { TextMapGetter, TextMapSetter } from "@opentelemetry/api";
import type { Headers } from "../contract.js";

/**
 * How the propagator reads a received message's headers. Any client can
 * write them, so only a string is handed over: a number, bytes or an
 * object under `traceparent` reads as no header, never as an error.
 */
export const HEADER_GETTER: TextMapGetter<Headers> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => {
    const value = headers[key];
    return typeof value === "string" ? value : undefined;
  },
};

/** How the propagator writes `traceparent` and `tracestate` into a message being sent. */
export const HEADER_SETTER: TextMapSetter<Headers> = {
  set: (headers, key, value) => {
    headers[key] = value;
  },
};
