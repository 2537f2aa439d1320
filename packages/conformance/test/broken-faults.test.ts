import { Connection, type ConnectionOptions } from "@carrot/core";
import type { Backend, ConsumeOptions, Delivery, PublishRequest } from "@carrot/core/backend";
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import { runCase } from "../src/conformance-case.js";
import { faults } from "../src/groups/faults.js";
import { resolveOptions } from "../src/options.js";

// The fault cases test themselves too: the amqplib backend, on the RabbitMQ
// the global setup found or started (CARROT_AMQP_URL), with one promise broken
// on the connections that go through the proxy, and the case that guards that
// promise must fail on it.

const url = process.env.CARROT_AMQP_URL;
if (!url)
  throw new Error(
    "CARROT_AMQP_URL is not set: run these tests through vitest, whose global setup finds or starts RabbitMQ",
  );
const broker = new URL(url);

type Wire = Pick<Backend, "publish" | "consume">;
/** Given the backend and its real publish/consume, returns the broken ones. */
type Mutation = (backend: Backend, inner: Wire) => Partial<Wire>;

/** A Connection whose backend is broken by `mutation` as soon as it exists. */
class BrokenConnection extends Connection {
  readonly #mutation: Mutation;
  #broken = false;

  constructor(options: ConnectionOptions, mutation: Mutation) {
    super(options);
    this.#mutation = mutation;
  }

  override async ready(): Promise<Backend> {
    const backend = await super.ready();
    if (!this.#broken) {
      this.#broken = true;
      const inner = {
        publish: backend.publish.bind(backend),
        consume: backend.consume.bind(backend),
      };
      Object.assign(backend, this.#mutation(backend, inner));
    }
    return backend;
  }
}

/** Whether the backend has reported a disconnect and no reconnect since. */
function tracksDown(backend: Backend): () => boolean {
  let down = false;
  backend.on("disconnect", () => {
    down = true;
  });
  backend.on("reconnect", () => {
    down = false;
  });
  return () => down;
}

function withDeliveries(
  change: (delivery: Delivery, backend: Backend) => Delivery | null,
): Mutation {
  return (backend, inner) => ({
    consume: (queue: string, options: ConsumeOptions, onDelivery: (d: Delivery) => void) =>
      inner.consume(queue, options, (d) => {
        const changed = change(d, backend);
        if (changed) onDelivery(changed);
      }),
  });
}

/** The suite's options, with `mutation` (and `settings`) on the connections through the proxy. */
function options(mutation: Mutation, settings: ConnectionOptions = {}) {
  return resolveOptions({
    runner: vitest,
    timeoutMs: 4_000,
    connect: () => new Connection(url),
    faults: {
      target: { host: broker.hostname, port: Number(broker.port || 5672) },
      connectThrough: (port, overrides) =>
        new BrokenConnection(
          {
            url: `amqp://${broker.username}:${broker.password}@127.0.0.1:${port}${broker.pathname}`,
            reconnect: { initialDelay: 50, maxDelay: 500 },
            ...settings,
            ...overrides,
          },
          mutation,
        ),
    },
  });
}

/** Each mutation, the case that guards against it, and the failure that case must report. */
const mutations: [name: string, caseId: string, why: RegExp, mutation: Mutation][] = [
  [
    "a send that failed is reported as sent",
    "cut-load",
    /confirmed sends never consumed/,
    (_, inner) => ({
      publish: (request: PublishRequest) => inner.publish(request).catch(() => undefined),
    }),
  ],
  [
    "a send while disconnected resolves at once",
    "send-offline",
    /outcome while every connection is refused/,
    (backend, inner) => {
      const down = tracksDown(backend);
      return {
        publish: async (request: PublishRequest) => {
          if (!down()) await inner.publish(request);
        },
      };
    },
  ],
  [
    "the redelivered flag is lost",
    "cut-load",
    /without redelivered=true/,
    // A redelivery needs a message unacked at a cut, which a fast consumer may
    // not have: every 50th ack is dropped (and said done), so every cut has some.
    (() => {
      let delivered = 0;
      return withDeliveries((d) => ({
        ...d,
        info: { ...d.info, redelivered: false },
        ack: ++delivered % 50 === 0 ? async () => {} : () => d.ack(),
      }));
    })(),
  ],
  [
    "consumers do not resume after a reconnect",
    "cut-topology",
    /waiting for the message "after"/,
    withDeliveries((d, backend) => {
      // Once the connection dropped, deliveries never reach the consumer again.
      const state = backend as unknown as { __dropped?: boolean };
      if (state.__dropped === undefined) {
        state.__dropped = false;
        backend.on("disconnect", () => {
          state.__dropped = true;
        });
      }
      return state.__dropped ? null : d;
    }),
  ],
];

const unchanged: Mutation = () => ({});

describe("fault cases fail on backends that break their promise (amqplib, RabbitMQ)", () => {
  for (const [name, caseId, why, mutation] of mutations) {
    it(`${caseId} fails when ${name}`, async () => {
      const conformanceCase = faults.cases.find((c) => c.id === caseId)!;
      await expect(runCase(options(mutation), conformanceCase, undefined)).rejects.toThrow(why);
    }, 60_000);
  }

  it("silence fails when a silent connection goes unnoticed (heartbeats off)", async () => {
    const conformanceCase = faults.cases.find((c) => c.id === "silence")!;
    await expect(
      runCase(options(unchanged, { heartbeat: 0 }), conformanceCase, undefined),
    ).rejects.toThrow(/a 'disconnect' event/);
  }, 60_000);
});

// The controls: each case above passes on the backend unbroken, with the same
// settings (heartbeats on for "silence", as its mutation is turning them off),
// so that a "catch" is never the case failing anyway.
describe("controls: the same fault cases pass on amqplib unbroken", () => {
  const controls = new Map<string, ConnectionOptions>(
    mutations.map(([, caseId]) => [caseId, {} as ConnectionOptions]),
  );
  controls.set("silence", { heartbeat: 1 });
  for (const [caseId, settings] of controls) {
    it(`${caseId} passes (settings: ${JSON.stringify(settings)})`, async () => {
      const conformanceCase = faults.cases.find((c) => c.id === caseId)!;
      await runCase(options(unchanged, settings), conformanceCase, undefined);
    }, 60_000);
  }
});
