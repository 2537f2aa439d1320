// The application API of carrot. Backend authors: see "@carrot/core/backend".

export { type BackendFactoryLike, registerBackend } from "./backend-registry.js";
export type { Codec } from "./codecs/codec.js";
export { DEFAULT_ACCEPT, registerCodec } from "./codecs/codec-registry.js";
export type { Compression } from "./codecs/compression.js";
export type {
  CannotCarry,
  Carried,
  CarriedBy,
  CodecPayloads,
  PayloadSource,
} from "./codecs/payload-types.js";
export { Connection } from "./connection.js";
export type {
  ConnectionOptions,
  TransportOptions,
  TransportOptionsByScheme,
  TransportOptionsFor,
} from "./connection-options.js";
export {
  Consumer,
  type ConsumerCallback,
  type ConsumerErrorListener,
  type ConsumerOptions,
  type WaitOptions,
} from "./consumer.js";
export { ConsumerSet } from "./consumer-set.js";
export type {
  BindingDeclaration,
  Capabilities,
  DeliveryInfo,
  ExchangeType,
  Headers,
  HeaderValue,
  MessageProperties,
  QueueArguments,
} from "./contract.js";
export * from "./errors.js";
export {
  FAILURE_HEADERS,
  type FailureRecord,
  MAX_ERROR_MESSAGE,
  readFailureRecord,
} from "./failure-record.js";
export {
  type ForwardChange,
  type ForwardDestination,
  type ForwardHandle,
  type ForwardOptions,
  type ForwardTransform,
  forward,
} from "./forward.js";
export { Message, type MessageRetryOptions, type MessageState } from "./message.js";
export { Publisher, type PublisherOptions, type SendOptions } from "./publisher.js";
export { redactUrl } from "./redact.js";
export type { RequestOptions } from "./request-reply.js";
export {
  BACKOFF_JITTERS,
  type BackoffJitter,
  DEFAULT_RETRY_BACKOFF,
  type RetryBackoff,
  retryDelay,
} from "./retry-backoff.js";
export {
  DEFAULT_RETRY_ATTEMPTS,
  EXHAUSTED_ACTIONS,
  type ExhaustedAction,
  type RetryPolicy,
} from "./retry-policy.js";
export type { Schema } from "./schema.js";
export type { LogFields, Logger } from "./telemetry/logger.js";
export type {
  MeterProviderLike,
  TelemetryOptions,
  TracerProviderLike,
} from "./telemetry/telemetry-options.js";
export type { ExchangeInput, PassiveOption, QueueInput } from "./topology-input.js";

import { Connection } from "./connection.js";
/** carrot's name for {@link Connection}, the same class. */
export const AMQPConnection = Connection;
/** carrot's name for {@link Connection}, the same class. */
export type AMQPConnection = Connection;
/** carrot's other name for {@link Connection}, the same class. */
export const BrokerConnection = Connection;
/** carrot's other name for {@link Connection}, the same class. */
export type BrokerConnection = Connection;
