import { describe, expect, it } from "vitest";
import { assertQueueSupported } from "../src/capability-checks.js";
import type { Capabilities } from "../src/contract.js";
import { InvalidOptionsError, UnsupportedFeatureError } from "../src/errors.js";
import { queueDeclaration } from "../src/topology-input.js";

// What every non-RabbitMQ backend in this repository declares about queue types: nothing.
const withoutQueueTypes = {
  exchangeTypes: ["direct"],
  persistence: true,
  ordering: true,
  priority: true,
  messageTtl: true,
  deadLetter: true,
  maxLength: true,
  mandatory: true,
  exclusiveQueues: true,
  maxMessageSize: 1024,
  leases: false,
  messageGroups: false,
} satisfies Capabilities;
const withQuorum: Capabilities = { ...withoutQueueTypes, queueTypes: ["classic", "quorum"] };

describe("queueType", () => {
  it("is refused with UnsupportedFeatureError by a backend that does not list it", () => {
    const queue = queueDeclaration({ name: "q", arguments: { queueType: "quorum" } });
    expect(() => assertQueueSupported("memory", withoutQueueTypes, queue)).toThrow(
      new UnsupportedFeatureError(
        "the memory backend does not support quorum queues (queueType on 'q')",
      ),
    );
  });

  it("is taken by a backend that lists it, and classic by every backend", () => {
    const quorum = queueDeclaration({
      name: "q",
      arguments: { queueType: "quorum", deliveryLimit: 3, initialGroupSize: 2 },
    });
    expect(quorum.arguments).toEqual({
      queueType: "quorum",
      deliveryLimit: 3,
      initialGroupSize: 2,
    });
    expect(() => assertQueueSupported("amqplib", withQuorum, quorum)).not.toThrow();
    const classic = queueDeclaration({ name: "q", arguments: { queueType: "classic" } });
    expect(() => assertQueueSupported("memory", withoutQueueTypes, classic)).not.toThrow();
  });

  it.each([
    [
      { arguments: { queueType: "stream" } },
      "queueArguments.queueType 'stream' is not one of classic, quorum",
    ],
    [
      { arguments: { queueType: "quorum" }, durable: false },
      "quorum queue 'q' cannot be durable: false: a quorum queue is durable, shared and without priorities",
    ],
    [
      { arguments: { queueType: "quorum", maxPriority: 5 }, exclusive: true, autoDelete: true },
      "quorum queue 'q' cannot be exclusive, autoDelete, maxPriority: a quorum queue is durable, shared and without priorities",
    ],
    [
      { arguments: { deliveryLimit: 3 } },
      `queueArguments.deliveryLimit on queue 'q' applies to quorum queues only; add queueType: "quorum"`,
    ],
    [
      { arguments: { "x-queue-type": "quorum", initialGroupSize: 3 } },
      `queueArguments.initialGroupSize on queue 'q' applies to quorum queues only; add queueType: "quorum"`,
    ],
    [
      { arguments: { queueType: "quorum", deliveryLimit: -1 } },
      "queueArguments.deliveryLimit must be a whole number >= 0, got -1",
    ],
    [
      { arguments: { queueType: "quorum", initialGroupSize: 0 } },
      "queueArguments.initialGroupSize must be a whole number >= 1, got 0",
    ],
    [
      { arguments: { queueType: "quorum", delivery_limit: 3 } },
      "unknown option 'delivery_limit' in queueArguments; did you mean 'deliveryLimit'?",
    ],
  ])("refuses %j before any broker sees it", (input, message) => {
    expect(() => queueDeclaration({ name: "q", ...input } as never)).toThrow(
      new InvalidOptionsError(message),
    );
  });

  it("leaves raw x- arguments to the backend", () => {
    const queue = queueDeclaration({
      name: "q",
      arguments: { "x-queue-type": "quorum", "x-delivery-limit": 2 },
    });
    expect(queue.arguments).toEqual({ "x-queue-type": "quorum", "x-delivery-limit": 2 });
  });
});
