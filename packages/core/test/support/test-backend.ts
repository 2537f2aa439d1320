import type { Backend, Capabilities } from "../../src/contract.js";

/** What a test backend that does little but route "direct" declares: nothing optional. */
export function plainCapabilities(maxMessageSize: number): Capabilities {
  return {
    exchangeTypes: ["direct"],
    persistence: false,
    ordering: true,
    priority: false,
    messageTtl: false,
    deadLetter: false,
    maxLength: false,
    mandatory: false,
    exclusiveQueues: false,
    maxMessageSize,
    leases: false,
    messageGroups: false,
  };
}

/**
 * A backend that accepts every declaration and publish and delivers nothing:
 * a test spreads it and replaces the methods it is about.
 */
export function quietBackend(name: string, capabilities: Capabilities): Backend {
  return {
    name,
    capabilities,
    connect: async () => undefined,
    close: async () => undefined,
    declareExchange: async () => undefined,
    declareQueue: async () => undefined,
    bindQueue: async () => undefined,
    unbindQueue: async () => undefined,
    deleteExchange: async () => undefined,
    deleteQueue: async () => undefined,
    purgeQueue: async () => 0,
    publish: async () => undefined,
    get: async () => null,
    consume: () => Promise.reject(new Error("not used here")),
    on: () => undefined,
    off: () => undefined,
  };
}
