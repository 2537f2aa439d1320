import { MemoryBackend, MemoryBroker } from "@carrot/backend-memory";
import { Connection } from "@carrot/core";
import {
  type Backend,
  type ConsumeOptions,
  type Delivery,
  type Headers,
  InvalidOptionsError,
  type PublishRequest,
  type Subscription,
} from "@carrot/core/backend";
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import { type ConformanceCase, runCase } from "../src/conformance-case.js";
import { data } from "../src/groups/data.js";
import { delivery } from "../src/groups/delivery.js";
import { hostile } from "../src/groups/hostile.js";
import { lifecycle } from "../src/groups/lifecycle.js";
import { routing } from "../src/groups/routing.js";
import type { HostileOptions, ResolvedOptions } from "../src/options.js";
import { publishRaw } from "../src/raw-publish.js";

// The suite tests itself: each backend below breaks one promise of the
// contract, and the case that guards that promise must fail on it. A case
// that passes on a broken backend proves nothing.

type Wire = Pick<Backend, "publish" | "consume">;
/** Given the real publish/consume, returns the broken ones. */
type Mutation = (inner: Wire) => Partial<Wire>;

function brokenConnect(mutation: Mutation): () => Connection {
  const broker = new MemoryBroker();
  return () => {
    const backend = new MemoryBackend({ broker });
    const inner = {
      publish: backend.publish.bind(backend),
      consume: backend.consume.bind(backend),
    };
    Object.assign(backend, mutation(inner));
    return new Connection({ backend });
  };
}

function withDelivery(change: (delivery: Delivery, options: ConsumeOptions) => Delivery): Mutation {
  return (inner) => ({
    consume: (queue: string, options: ConsumeOptions, onDelivery: (d: Delivery) => void) =>
      inner.consume(queue, options, (d) => onDelivery(change(d, options))),
  });
}

/** Headers changed on the way, as a backend's envelope might change them. */
function withHeaders(change: (headers: Headers) => Headers): Mutation {
  return (inner) => ({
    publish: (request: PublishRequest) =>
      inner.publish({
        ...request,
        message: { ...request.message, headers: change(request.message.headers) },
      }),
  });
}

function find(id: string): ConformanceCase {
  const all = [
    ...routing.cases,
    ...delivery.cases,
    ...data.cases,
    ...lifecycle.cases,
    ...hostile.cases,
  ];
  const found = all.find((c) => c.id === id);
  if (!found) throw new Error(`no case '${id}'`);
  return found;
}

const mutations: [name: string, caseId: string, mutation: Mutation][] = [
  [
    "redelivered flag always false",
    "requeue",
    withDelivery((d) => ({ ...d, info: { ...d.info, redelivered: false } })),
  ],
  [
    "reject(false) requeues instead of dropping",
    "reject-drop",
    withDelivery((d) => ({ ...d, reject: () => d.reject(true) })),
  ],
  [
    "settling a dead delivery reports success",
    "settle-closed",
    withDelivery((d) => ({ ...d, ack: () => d.ack().catch(() => undefined) })),
  ],
  ["ack is a no-op", "ack-final", withDelivery((d) => ({ ...d, ack: async () => {} }))],
  [
    "an ack settles older messages too (a wrong multiple ack)",
    "ack-some",
    (inner) => ({
      consume: (queue: string, options: ConsumeOptions, on: (d: Delivery) => void) => {
        const held: Delivery[] = [];
        return inner.consume(queue, options, (d) => {
          held.push(d);
          const ackOlderToo = async () => {
            for (const older of held.splice(0, held.indexOf(d) + 1))
              if (older !== d) await older.ack().catch(() => undefined);
            await d.ack();
          };
          on({ ...d, ack: ackOlderToo });
        });
      },
    }),
  ],
  [
    "prefetch ignored",
    "prefetch",
    (inner) => ({
      consume: (queue: string, options: ConsumeOptions, on: (d: Delivery) => void) =>
        inner.consume(queue, { ...options, prefetch: 0 }, on),
    }),
  ],
  [
    "every message published twice",
    "direct",
    (inner) => ({
      publish: async (request: PublishRequest) => {
        await inner.publish(request);
        await inner.publish(request);
      },
    }),
  ],
  [
    "mandatory ignored",
    "unroutable",
    (inner) => ({
      publish: (request: PublishRequest) => inner.publish({ ...request, mandatory: false }),
    }),
  ],
  [
    "one message in 1000 silently dropped",
    "volume",
    (inner) => {
      let n = 0;
      return {
        publish: async (request: PublishRequest) => {
          if (++n % 1000 !== 0) await inner.publish(request);
        },
      };
    },
  ],
  [
    "headers lost in transit",
    "properties",
    (inner) => ({
      publish: (request: PublishRequest) =>
        inner.publish({ ...request, message: { ...request.message, headers: {} } }),
    }),
  ],
  [
    "header objects shaped like a tag read back as the tagged value",
    "properties",
    withHeaders((headers) =>
      JSON.parse(JSON.stringify(headers), (_key, value) =>
        value && typeof value === "object" && "$date" in value ? new Date(value.$date) : value,
      ),
    ),
  ],
  [
    "NaN and the infinities sent as null, as plain JSON writes them",
    "non-finite-headers",
    withHeaders((headers) => JSON.parse(JSON.stringify(headers))),
  ],
  [
    "a send refused for its non-finite headers, after it was sent",
    "non-finite-headers",
    (inner) => ({
      publish: async (request: PublishRequest) => {
        await inner.publish(request);
        if (Object.values(request.message.headers).some((v) => Number.isNaN(v)))
          throw new InvalidOptionsError("NaN refused (but sent)");
      },
    }),
  ],
  [
    "messages delivered out of order",
    "ordering",
    (inner) => {
      let held: PublishRequest | undefined;
      return {
        publish: async (request: PublishRequest) => {
          if (!held) {
            held = request;
            return;
          }
          await inner.publish(request);
          await inner.publish(held);
          held = undefined;
        },
      };
    },
  ],
  [
    "subscriptions that cannot be cancelled",
    "close-waits",
    (inner) => ({
      consume: async (queue: string, options: ConsumeOptions, on: (d: Delivery) => void) => {
        const subscription = await inner.consume(queue, options, on);
        return { consumerTag: subscription.consumerTag, cancel: async () => {} } as Subscription;
      },
    }),
  ],
  [
    "expiration ignored",
    "ttl",
    (inner) => ({
      publish: (request: PublishRequest) => {
        const { expiration: _, ...properties } = request.message.properties;
        return inner.publish({ ...request, message: { ...request.message, properties } });
      },
    }),
  ],
  [
    "priority ignored",
    "priority",
    (inner) => ({
      publish: (request: PublishRequest) => {
        const { priority: _, ...properties } = request.message.properties;
        return inner.publish({ ...request, message: { ...request.message, properties } });
      },
    }),
  ],
  [
    "received headers with a prototype (a setter away from the data)",
    "hostile-messages",
    withDelivery((d) => ({ ...d, message: { ...d.message, headers: { ...d.message.headers } } })),
  ],
  [
    "a message the backend cannot read dropped without a word",
    "hostile-messages",
    (inner) => ({
      consume: (queue: string, options: ConsumeOptions, on: (d: Delivery) => void) =>
        inner.consume(queue, options, (d) => {
          if ("deep" in d.message.headers) void d.ack();
          else on(d);
        }),
    }),
  ],
];

describe("the suite fails on a backend that breaks the contract", () => {
  for (const [name, caseId, mutation] of mutations) {
    it(`${caseId} catches: ${name}`, async () => {
      const connect = brokenConnect(mutation);
      const options: ResolvedOptions = {
        connect,
        runner: vitest,
        stress: 1,
        timeoutMs: 1000,
        hostile: { write: writeWith(connect) },
      };
      await expect(runCase(options, find(caseId), undefined)).rejects.toBeInstanceOf(Error);
    }, 20_000);
  }
});

/** The hostile group's raw writer on a (broken) memory broker: a connection of its own per write. */
function writeWith(connect: () => Connection): HostileOptions["write"] {
  return async (queue, message) => {
    const connection = connect();
    try {
      await publishRaw(connection, queue, message);
    } finally {
      await connection.close();
    }
  };
}
