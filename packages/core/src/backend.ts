// What backend authors build on: the contract, the errors, and the pieces
// every backend shares (virtual routing, declarations, backoff, redaction,
// time limits, JSON envelopes).

export { backoffDelay, DEFAULT_RECONNECT_POLICY } from "./backoff.js";
export * from "./contract.js";
export { Deque } from "./deque.js";
export {
  type HeadersJson,
  headersFromJson,
  headersToJson,
  type PropertiesJson,
  propertiesFromJson,
  propertiesToJson,
} from "./envelope-json.js";
export * from "./errors.js";
export { BackendEventEmitter } from "./events.js";
export { redactUrl } from "./redact.js";
export {
  type DeadLetterOrigin,
  type DeadLetterReason,
  deadLetterHeaders,
} from "./routing/dead-letter-headers.js";
export { assertSameExchange, assertSameQueue, sameBinding } from "./routing/declarations.js";
export { headersMatch } from "./routing/headers-matcher.js";
export { bindingMatches, route } from "./routing/route.js";
export { topicMatches } from "./routing/topic-matcher.js";
export { Topology } from "./routing/topology.js";
export { settledWithin, withTimeout } from "./time-limits.js";
