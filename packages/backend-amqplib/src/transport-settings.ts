import { InvalidOptionsError } from "@carrot/core/backend";
import type { AmqplibTransportOptions } from "./amqp-endpoints.js";

/** `transportOptions` of an amqp:// Connection. */
export interface AmqplibOptions extends AmqplibTransportOptions {
  /**
   * Milliseconds an operation started while the connection is down (a send,
   * a declare) waits for the reconnect before failing with
   * ConnectionLostError; default 20 000, under core's 30 s send timeout.
   */
  reconnectWait?: number;
  /** Overrides the size limit derived from the RabbitMQ version (its `max_message_size`, in bytes). */
  maxMessageSize?: number;
}

// The module augmented below must be in the program: an augmentation alone does not load it.
import type {} from "@carrot/core";

declare module "@carrot/core" {
  /** The amqplib backend's `transportOptions`, for `amqp://` and `amqps://` URLs. */
  interface TransportOptionsByScheme {
    /** `transportOptions` of an amqp:// Connection. */
    amqp: AmqplibOptions;
    /** `transportOptions` of an amqps:// (TLS) Connection. */
    amqps: AmqplibOptions;
  }
}

export interface AmqplibBackendSettings extends AmqplibOptions {
  reconnectWait: number;
}

const KNOWN = ["socketOptions", "frameMax", "channelMax", "reconnectWait", "maxMessageSize"];

export function transportSettings(options: Record<string, unknown>): AmqplibBackendSettings {
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw new InvalidOptionsError(
        `unknown transportOptions key '${key}' for the amqplib backend; known: ${KNOWN.join(", ")}`,
      );
    }
  }
  const o = options as AmqplibOptions;
  for (const key of ["frameMax", "channelMax", "reconnectWait", "maxMessageSize"] as const) {
    const value = o[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      throw new InvalidOptionsError(
        `transportOptions.${key} must be a whole number >= 0, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (
    o.socketOptions !== undefined &&
    (typeof o.socketOptions !== "object" || o.socketOptions === null)
  ) {
    throw new InvalidOptionsError(
      "transportOptions.socketOptions must be an object of socket options",
    );
  }
  return { ...o, reconnectWait: o.reconnectWait ?? 20_000 };
}
