import { MemoryBackend, MemoryBroker } from "@carrot/backend-memory";
import { Connection } from "@carrot/core";
import {
  type Backend,
  type Capabilities,
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
import { delays } from "../src/groups/delays.js";
import { delivery } from "../src/groups/delivery.js";
import { failures } from "../src/groups/failures.js";
import { hostile } from "../src/groups/hostile.js";
import { leases } from "../src/groups/leases.js";
import { lifecycle } from "../src/groups/lifecycle.js";
import { routing } from "../src/groups/routing.js";
import type { HostileOptions, ResolvedOptions } from "../src/options.js";
import { publishRaw } from "../src/raw-publish.js";

// The suite tests itself: each backend below breaks one promise of the
// contract, and the case that guards that promise must fail on it. A case
// that passes on a broken backend proves nothing. Each has its control: the
// same case, with the same settings, on the backend unbroken, must pass;
// otherwise the "catch" was the case failing anyway.

type Wire = Pick<Backend, "publish" | "consume" | "get">;
/** Given the real publish/consume/get, returns the broken ones. */
type Mutation = (inner: Wire) => Partial<Wire>;

const unchanged: Mutation = () => ({});

function brokenConnect(
  mutation: Mutation,
  capabilities: Partial<Capabilities> = {},
): () => Connection {
  const broker = new MemoryBroker();
  return () => {
    const backend = new MemoryBackend({ broker });
    const inner = {
      publish: backend.publish.bind(backend),
      consume: backend.consume.bind(backend),
      get: backend.get.bind(backend),
    };
    Object.assign(backend, mutation(inner), {
      capabilities: Object.freeze({ ...backend.capabilities, ...capabilities }),
    });
    return new Connection({ backend });
  };
}

const LEASE_MS = 300;
/** Memory's timers are late by a tick, not by a poll: a tight tolerance still fits a loaded machine. */
const DELAY_TOLERANCE_MS = 500;

/**
 * Leases as a backend with `leases` has them, emulated on memory: a
 * delivery not settled within LEASE_MS goes back to the queue (to another
 * consumer), unless `renew` keeps subscriptions' deliveries alive (a lease
 * keeper) or `extend` pushes the expiry back.
 */
function leasing({ renew, extend }: { renew: boolean; extend: boolean }): Mutation {
  return (inner) => {
    const lease = (d: Delivery, kept: boolean): Delivery => {
      let timer = kept
        ? undefined
        : setTimeout(() => void d.reject(true).catch(() => {}), LEASE_MS);
      const settled =
        <A extends unknown[]>(settle: (...a: A) => Promise<void>) =>
        (...a: A) => {
          clearTimeout(timer);
          return settle(...a);
        };
      return {
        ...d,
        ack: settled(() => d.ack()),
        reject: settled((requeue: boolean) => d.reject(requeue)),
        extend: async (seconds: number) => {
          if (!extend) return;
          clearTimeout(timer);
          timer = setTimeout(() => void d.reject(true).catch(() => {}), seconds * 1000);
        },
      };
    };
    return {
      consume: (queue: string, options: ConsumeOptions, on: (d: Delivery) => void) =>
        inner.consume(queue, options, (d) => on(lease(d, renew))),
      get: async (queue: string, options: { noAck: boolean }) => {
        const d = await inner.get(queue, options);
        return d && lease(d, false);
      },
    };
  };
}

/**
 * A direct exchange that also routes key "k2" to the queues of "k1", and
 * delivers those misrouted copies late: what a backend without `ordering`
 * may do, and what no wait after the sentinel can rule out.
 */
const lateMisroute: Mutation = (inner) => ({
  publish: async (request: PublishRequest) => {
    await inner.publish(request);
    if (request.routingKey !== "k2") return;
    const headers = { ...request.message.headers, misrouted: true };
    await inner.publish({ ...request, routingKey: "k1", message: { ...request.message, headers } });
  },
  consume: async (queue: string, options: ConsumeOptions, on: (d: Delivery) => void) => {
    // Held back, as in a backend's prefetch buffer: given back on cancel, as a backend does.
    const late = new Map<Delivery, ReturnType<typeof setTimeout>>();
    const subscription = await inner.consume(queue, options, (d) => {
      if (!d.message.headers.misrouted) return on(d);
      late.set(
        d,
        setTimeout(() => {
          late.delete(d);
          on(d);
        }, 3_000),
      );
    });
    return {
      consumerTag: subscription.consumerTag,
      cancel: async () => {
        await subscription.cancel();
        for (const [d, timer] of late) {
          clearTimeout(timer);
          await d.reject(true);
        }
        late.clear();
      },
    };
  },
});

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

/** Delayed sends changed on the way (`change` returns the requests to publish instead). */
function withDelayed(change: (request: PublishRequest) => PublishRequest[]): Mutation {
  return (inner) => ({
    publish: async (request: PublishRequest) => {
      const requests = request.delay === undefined ? [request] : change(request);
      for (const each of requests) await inner.publish(each);
    },
  });
}

function undelayed(request: PublishRequest): PublishRequest {
  const { delay: _, ...rest } = request;
  return rest;
}

/**
 * Delays served in the order they were sent, as one queue with a TTL per
 * message serves them (RabbitMQ expires only the head): each delayed
 * message is due no sooner than the one sent before it.
 */
const delaysInSendOrder: Mutation = (inner) => {
  let lastDue = 0;
  return {
    publish: async (request: PublishRequest) => {
      if (request.delay === undefined) return inner.publish(request);
      lastDue = Math.max(lastDue, Date.now() + request.delay);
      setTimeout(
        () => void inner.publish(undelayed(request)).catch(() => {}),
        lastDue - Date.now(),
      );
    },
  };
};

/** A retry's copy (sent to the queue alone, with a failure record) published twice. */
const retryCopiedTwice: Mutation = (inner) => ({
  publish: async (request: PublishRequest) => {
    await inner.publish(request);
    if (request.exchange === "" && "x-carrot-attempts" in request.message.headers)
      await inner.publish(request);
  },
});

function find(id: string): ConformanceCase {
  const all = [
    ...routing.cases,
    ...delivery.cases,
    ...data.cases,
    ...lifecycle.cases,
    ...leases.cases,
    ...hostile.cases,
    ...delays.cases,
    ...failures.cases,
  ];
  const found = all.find((c) => c.id === id);
  if (!found) throw new Error(`no case '${id}'`);
  return found;
}

interface Broken {
  /** What the backend breaks. */
  name: string;
  /** The case that must catch it. */
  caseId: string;
  mutation: Mutation;
  /** The control's backend: the same settings, unbroken (default: memory as it is). */
  control?: Mutation;
  /** Capabilities the broken backend declares (and its control, unless `controlCapabilities`). */
  capabilities?: Partial<Capabilities>;
  controlCapabilities?: Partial<Capabilities>;
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
  ["delay ignored: delivered at once", "delay-honoured", withDelayed((r) => [undelayed(r)])],
  ["a short delay held behind a longer one sent before it", "delay-not-blocked", delaysInSendOrder],
  ["a delayed message routed twice", "delay-routing", withDelayed((r) => [r, r])],
  [
    "delay bookkeeping left in a delayed message's headers",
    "delay-data",
    withDelayed((r) => [
      { ...r, message: { ...r.message, headers: { ...r.message.headers, "x-delay": r.delay! } } },
    ]),
  ],
  [
    "a retry's backoff ignored (delivered at once)",
    "retry-attempts",
    withDelayed((r) => [undelayed(r)]),
  ],
  ["a retry's copy delivered twice", "retry-attempts", retryCopiedTwice],
  ["a retry's copy delivered twice", "retry-nothing-left", retryCopiedTwice],
  [
    "the failure record stripped on the way",
    "retry-dead-letter",
    withHeaders((headers) =>
      Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith("x-carrot-"))),
    ),
  ],
  [
    "deliveryCount always 1",
    "count-requeue",
    withDelivery((d) => ({ ...d, info: { ...d.info, deliveryCount: 1 } })),
  ],
  [
    "deliveryCount not kept for a delivery whose connection closed",
    "count-conn-closed",
    withDelivery((d) => ({
      ...d,
      info: { ...d.info, deliveryCount: d.info.redelivered ? 1 : d.info.deliveryCount },
    })),
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

const broken: Broken[] = [
  ...mutations.map(([name, caseId, mutation]) => ({ name, caseId, mutation })),
  {
    name: "get with noAck leaves the message unsettled",
    caseId: "noack",
    mutation: (inner) => ({
      get: (queue: string) => inner.get(queue, { noAck: false }),
    }),
  },
  {
    name: "the body dropped",
    caseId: "codecs",
    mutation: (inner) => ({
      publish: (request: PublishRequest) =>
        inner.publish({ ...request, message: { ...request.message, body: new Uint8Array(0) } }),
    }),
  },
  {
    name: "the content type dropped",
    caseId: "codecs",
    mutation: (inner) => ({
      publish: (request: PublishRequest) =>
        inner.publish({ ...request, message: { ...request.message, contentType: undefined } }),
    }),
  },
  {
    name: "messageGroups declared, groupId and deduplicationId ignored",
    caseId: "groups",
    mutation: unchanged,
    capabilities: { messageGroups: true },
    // Its control declares what it does: no groups, so they must be refused.
    controlCapabilities: {},
  },
  {
    name: "held deliveries' leases never renewed",
    caseId: "lease-kept",
    mutation: leasing({ renew: false, extend: true }),
    control: leasing({ renew: true, extend: true }),
    capabilities: { leases: true },
  },
  {
    name: "held deliveries' leases never renewed, after wait({ limit }) ended the subscription",
    caseId: "lease-after-wait",
    mutation: leasing({ renew: false, extend: true }),
    control: leasing({ renew: true, extend: true }),
    capabilities: { leases: true },
  },
  {
    name: "extend() accepted and ignored",
    caseId: "lease-extend",
    mutation: leasing({ renew: true, extend: false }),
    control: leasing({ renew: true, extend: true }),
    capabilities: { leases: true },
  },
  {
    name: "a misroute delivered late, after the sentinel (no ordering)",
    caseId: "direct",
    mutation: lateMisroute,
    capabilities: { ordering: false },
  },
];

function optionsFor(connect: () => Connection): ResolvedOptions {
  return {
    connect,
    runner: vitest,
    stress: 1,
    timeoutMs: 1000,
    delayToleranceMs: DELAY_TOLERANCE_MS,
    hostile: { write: writeWith(connect) },
    leases: { connect, leaseMs: LEASE_MS },
  };
}

describe("the suite fails on a backend that breaks the contract", () => {
  for (const { name, caseId, mutation, capabilities } of broken) {
    it(`${caseId} catches: ${name}`, async () => {
      const options = optionsFor(brokenConnect(mutation, capabilities));
      await expect(runCase(options, find(caseId), undefined)).rejects.toBeInstanceOf(Error);
    }, 20_000);
  }
});

describe("controls: the same case, with the same settings, passes on the backend unbroken", () => {
  // One control per case, declared capabilities and control backend: mutations share them.
  const controls = new Map<string, { names: string[]; run: () => Promise<void> }>();
  for (const { name, caseId, control = unchanged, capabilities, controlCapabilities } of broken) {
    const declared = controlCapabilities ?? capabilities ?? {};
    const key = `${caseId} declaring ${JSON.stringify(declared)}${control === unchanged ? "" : " (emulated leases)"}`;
    const known = controls.get(key);
    if (known) known.names.push(name);
    else
      controls.set(key, {
        names: [name],
        run: () => runCase(optionsFor(brokenConnect(control, declared)), find(caseId), undefined),
      });
  }
  for (const [key, { names, run }] of controls) {
    it(`${key} passes on memory (the control of: ${names.join("; ")})`, run, 20_000);
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
