import type { Capabilities } from "../../src/contract.js";

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
