/**
 * Each backend's capabilities as its own source declares them, with its own
 * defaults: the columns of the capability table in docs/choosing-a-backend.md.
 * Where a value depends on the server or a setting (the message size limit),
 * each case the backend distinguishes is a variant of the column.
 */
import type { BackendFactory, BackendOptions, Capabilities } from "@carrot/core/backend";
import {
  amqpCapabilities,
  defaultMaxMessageSize,
} from "../../packages/backend-amqplib/src/capabilities.js";
import { amqplibBackend } from "../../packages/backend-amqplib/src/index.js";
import { memoryCapabilities } from "../../packages/backend-memory/src/capabilities.js";
import { memoryBackend } from "../../packages/backend-memory/src/index.js";
import { redisCapabilities } from "../../packages/backend-redis/src/capabilities.js";
import { redisBackend } from "../../packages/backend-redis/src/index.js";
import { resolveRedisOptions } from "../../packages/backend-redis/src/redis-options.js";
import { sqsCapabilities } from "../../packages/backend-sqs/src/capabilities.js";
import { SizeLimit } from "../../packages/backend-sqs/src/envelope.js";
import { sqsBackend } from "../../packages/backend-sqs/src/index.js";
import { resolveSqsOptions } from "../../packages/backend-sqs/src/sqs-options.js";

/** One case of a backend's capabilities, and when it applies (absent: always). */
export interface CapabilityVariant {
  readonly when?: string;
  readonly capabilities: Capabilities;
}

/** A column of the table. */
export interface BackendColumn {
  /** The broker, as the table's header names it. */
  readonly broker: string;
  /** The npm package. */
  readonly packageName: string;
  /** Its factory: its name and the URL schemes it serves. */
  readonly factory: BackendFactory;
  readonly variants: readonly CapabilityVariant[];
}

/** What a Connection gives a backend when the URL says nothing more. */
const DEFAULT_BACKEND_OPTIONS: BackendOptions = {
  alternates: [],
  connectTimeout: 10_000,
  reconnect: false,
  transportOptions: {},
};

/** SQS's largest body, for a queue whose MaximumMessageSize is the default or `bytes`. */
function sqsVariant(when: string, bytes?: number): CapabilityVariant {
  const { maxMessageSize } = resolveSqsOptions(
    bytes === undefined ? {} : { maxMessageSize: bytes },
  );
  return { when, capabilities: sqsCapabilities(new SizeLimit(maxMessageSize).maxBody) };
}

export const BACKEND_COLUMNS: readonly BackendColumn[] = [
  {
    broker: "in-process (memory)",
    packageName: "@carrot/backend-memory",
    factory: memoryBackend,
    variants: [{ capabilities: memoryCapabilities() }],
  },
  {
    broker: "RabbitMQ",
    packageName: "@carrot/backend-amqplib",
    factory: amqplibBackend,
    variants: [
      { when: "RabbitMQ 4", capabilities: amqpCapabilities(defaultMaxMessageSize("4.0.0")) },
      { when: "RabbitMQ 3", capabilities: amqpCapabilities(defaultMaxMessageSize("3.13.0")) },
    ],
  },
  {
    broker: "Redis",
    packageName: "@carrot/backend-redis",
    factory: redisBackend,
    variants: [
      {
        capabilities: redisCapabilities(
          resolveRedisOptions({ ...DEFAULT_BACKEND_OPTIONS, url: "redis://" }).settings
            .maxMessageSize,
        ),
      },
    ],
  },
  {
    broker: "Amazon SQS",
    packageName: "@carrot/backend-sqs",
    factory: sqsBackend,
    variants: [sqsVariant("queues of 256 KiB, the default"), sqsVariant("1 MiB queues", 1 << 20)],
  },
];
