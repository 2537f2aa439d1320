// What backend authors build on: the contract, the errors, and the pieces
// every backend shares (virtual routing, declarations, backoff, redaction,
// time limits, JSON envelopes, option checks).

export { type BackendFactoryLike, registerBackend } from "./backend-registry.js";
export { backoffDelay, DEFAULT_RECONNECT_POLICY } from "./backoff.js";
export { clientError, sanitizedCause } from "./client-errors.js";
export { closestName } from "./closest-name.js";
export {
  CONNECT_TIMEOUT_RANGE,
  checkReconnectPolicy,
  HEARTBEAT_RANGE,
} from "./connection-options.js";
export * from "./contract.js";
export { Deque } from "./deque.js";
export {
  envelopeString,
  type HeadersJson,
  headersFromJson,
  headersToJson,
  isRecord,
  type Json,
  MAX_HEADER_DEPTH,
  newHeaders,
  type PropertiesJson,
  propertiesFromJson,
  propertiesToJson,
} from "./envelope-json.js";
export * from "./errors.js";
export { BackendEventEmitter } from "./events.js";
export {
  ConnectionLifecycle,
  type LifecycleState,
} from "./kit/connection-lifecycle.js";
export {
  DEAD_LETTER_REASONS,
  type DeadLetterOrigin,
  type DeadLetterReason,
  type DeadLetterTarget,
  type DeathRecord,
  deadLetterMessage,
  deadLetterQueues,
  deadLetterTarget,
  isDeadLetterReason,
  UNREADABLE_HEADER,
  unpublishedDeadLetter,
} from "./kit/dead-lettering.js";
export {
  DeliveryTracker,
  type DeliveryTrackerOptions,
  HeldDelivery,
  PrefetchWindow,
} from "./kit/delivery-tracker.js";
export {
  type BodyForm,
  ENVELOPE_FORMAT,
  type Envelope,
  type EnvelopedMessage,
  EnvelopeReader,
  EnvelopeWriter,
  encodeEnvelope,
  type UnversionedNames,
} from "./kit/envelope.js";
export { isExpired, overflowCount, timeToLive } from "./kit/expiry.js";
export { KeptAliveReplyQueue, type ReplyQueueBackend } from "./kit/kept-alive-reply-queue.js";
export {
  Lease,
  LeaseKeeper,
  type LeaseKeeperOptions,
  type LeaseRenewal,
  type RenewLeases,
} from "./kit/lease-keeper.js";
export {
  type ConnectFailureContext,
  connectFailure,
  networkErrorCode,
} from "./kit/network-errors.js";
export { type ExchangeBindings, RouteCache, type RoutingDecision } from "./kit/route-cache.js";
export {
  type BatchLimits,
  type BatchOutcome,
  KeyedTickBatcher,
  type SendBatch,
  TickBatcher,
} from "./kit/tick-batcher.js";
export {
  checkNumber,
  MAX_TIMER_MS,
  type NumberRange,
  numberFromText,
} from "./number-options.js";
export { checkOptionNames, optionNames } from "./option-names.js";
export { isTransientPublishError } from "./publish-failures.js";
export { redactText, redactUrl, secretOf } from "./redact.js";
export { assertSameExchange, assertSameQueue, sameBinding } from "./routing/declarations.js";
export { headersMatch } from "./routing/headers-matcher.js";
export { bindingMatches, route } from "./routing/route.js";
export { topicMatches } from "./routing/topic-matcher.js";
export { Topology } from "./routing/topology.js";
export { settledWithin, withTimeout } from "./time-limits.js";
export { parseBrokerUrl } from "./url-form.js";
