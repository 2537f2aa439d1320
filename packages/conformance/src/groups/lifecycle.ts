import {
  CallbackError,
  DeclarationConflictError,
  NotFoundError,
  ResourceLockedError,
} from "@carrot/core";
import { startChild } from "../child-process.js";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { deadLetterRoute, Endpoint } from "../endpoint.js";
import { expectExactly, expectInOrder, expectRedelivered } from "../expect-messages.js";
import { redeliveredFlags, untilPayload, untilPayloadCount } from "../received.js";
import type { TestKit } from "../test-kit.js";
import { deferred, delay } from "../wait-for.js";
import { expectDeath } from "../x-death.js";

const SENTINEL = "end";

const idempotentDeclare: ConformanceCase = {
  id: "redeclare",
  title: "declare is idempotent: the same declaration again (from any connection) changes nothing",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const consumer = ep.consumer();
    await consumer.declare();
    const publisher = ep.publisher();
    await publisher.send("kept");
    // Again, field by field, from this connection and from another one.
    await t.main.declareExchange({ name: ep.exchange });
    await t.main.declareQueue({ name: ep.queue });
    await t.main.bindQueue({ queue: ep.queue, exchange: ep.exchange, routingKey: ep.routingKey });
    await ep.consumer(await t.connection()).declare();
    await publisher.send("once");
    await publisher.send(SENTINEL);
    const got = await t.collect(consumer);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    // Not purged by the redeclare, and the repeated binding does not double the delivery.
    expectExactly(t.expect, got.items, [SENTINEL, "kept", "once"], "after the redeclares");
  },
};

const conflictingDeclare: ConformanceCase = {
  id: "conflict",
  title:
    "a conflicting redeclare fails with DeclarationConflictError, and the connection keeps working",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const got = await t.collect(ep.consumer());
    await t
      .expect(t.main.declareQueue({ name: ep.queue, durable: false }))
      .rejects.toBeInstanceOf(DeclarationConflictError);
    await t
      .expect(t.main.declareExchange({ name: ep.exchange, durable: false }))
      .rejects.toBeInstanceOf(DeclarationConflictError);
    // A failed declare is the caller's error, not the connection's (AMQP closes only a channel).
    await ep.publisher().send("still-works");
    const [message] = await got.count(1);
    t.expect(message!.payload).toBe("still-works");
  },
};

const passiveConsumer: ConformanceCase = {
  id: "passive",
  title:
    "passive: a consumer of a missing exchange or queue fails with NotFoundError and creates neither; of existing ones it binds and consumes, comparing no settings (checkQueue, checkExchange; refused without them)",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const backend = await t.main.ready();
    if (!backend.checkQueue || !backend.checkExchange) {
      await t.refused(() => ep.consumer(t.main, { passive: true }).declare());
      await t.refused(() => t.main.declareQueue({ name: ep.queue, passive: true }));
      return;
    }
    const passive = () => ep.consumer(t.main, { passive: true });
    // The exchange is checked first, then the queue; the misspelt one fails at once.
    await t.expect(passive().declare()).rejects.toBeInstanceOf(NotFoundError);
    await t.main.declareExchange({ name: ep.exchange, durable: false });
    await t.expect(passive().fetch()).rejects.toBeInstanceOf(NotFoundError);
    await t
      .expect(t.main.declareQueue({ name: ep.queue, passive: true }))
      .rejects.toBeInstanceOf(NotFoundError);
    // The checks created nothing, and the connection works on (RabbitMQ closed
    // a channel for each): declared now with other settings than the
    // consumer's defaults, the queue conflicts with no earlier declaration.
    await t.main.declareQueue({ name: ep.queue, durable: false });
    await t.main.declareQueue({ name: ep.queue, passive: true });
    // Passive compares no settings (the consumer's say durable), and it binds.
    const got = await t.collect(passive());
    await t
      .publisher<string>(t.main, {
        exchange: ep.exchange,
        routingKey: ep.routingKey,
        durable: false,
      })
      .send("through-the-binding");
    await untilPayload(got, "through-the-binding");
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["through-the-binding"], "the passive consumer");
  },
};

const undeclaredConsumer: ConformanceCase = {
  id: "declare-false",
  title:
    "declare: false: a consumer declares nothing, not even its binding, and consumes the queue the infrastructure declared",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const consumer = ep.consumer(t.main, { declare: false });
    await consumer.declare();
    // Nothing declared: the names take other settings than the consumer's defaults without a conflict.
    await t.main.declareExchange({ name: ep.exchange, durable: false });
    await t.main.declareQueue({ name: ep.queue, durable: false });
    const publisher = t.publisher<string>(t.main, {
      exchange: ep.exchange,
      routingKey: ep.routingKey,
      durable: false,
    });
    const got = await t.collect(consumer);
    // Not bound by the consumer: this one goes nowhere, the next one through the infrastructure's binding.
    await publisher.send("unbound");
    await t.main.bindQueue({ queue: ep.queue, exchange: ep.exchange, routingKey: ep.routingKey });
    await publisher.send("bound");
    await untilPayload(got, "bound");
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, ["bound"], "the consumer that declared nothing");
  },
};

const closeWaits: ConformanceCase = {
  id: "close-waits",
  title: "close() waits for the callback in flight, and nothing is delivered after close",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const events: string[] = [];
    const gate = deferred();
    const first = ep.consumer();
    const started = await t.collect(first, async (message) => {
      events.push("callback started");
      await gate.promise;
      await message.ack();
      events.push("callback acked");
    });
    await ep.publisher().send("slow");
    await started.count(1);
    const closing = first.close().then(() => events.push("closed"));
    // Not a synchronisation: a correct close() is still waiting whatever the
    // delay; the delay only gives a close() that does not wait the time to
    // finish early and be caught.
    await delay(Math.min(200, t.timeoutMs / 50));
    events.push("gate opened");
    gate.resolve();
    await closing;
    t.expect(events).toEqual(["callback started", "gate opened", "callback acked", "closed"]);
    // A second consumer takes everything published after the close: a message
    // the closed one took instead would keep this count short.
    const second = await t.collect(ep.consumer());
    const publisher = ep.publisher();
    await publisher.send("after-1");
    await publisher.send("after-2");
    await second.count(2);
    await t.nothingMoreOn(second);
    expectExactly(t.expect, started.items, ["slow"], "the closed consumer");
    expectExactly(t.expect, second.items, ["after-1", "after-2"], "the consumer after it");
    // Not even handed to the closed consumer and back: that would mark them redelivered.
    t.expect(redeliveredFlags(second.items)).toEqual([false, false]);
  },
};

const throwingCallback: ConformanceCase = {
  id: "callback-throws",
  title:
    "a callback that throws leaves the consumer running and the message not lost: the default policy tries it again, as delivery 2",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const consumer = ep.consumer();
    const errors = t.errors(consumer);
    const got = await t.collect(consumer, async (message) => {
      if (message.payload === "m1" && message.deliveryCount === 1) throw new Error("boom");
      await message.ack();
    });
    const publisher = ep.publisher();
    await publisher.send("m1");
    // The default backoff waits up to a second (full jitter) before the second try.
    await untilPayloadCount(got, "m1", 2);
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectInOrder(t.expect, got.items, ["m1", "m1", SENTINEL], "after the callback threw on m1");
    t.expect(
      got.items.map((m) => m.deliveryCount),
      "deliveryCount of m1, m1 tried again, the sentinel",
    ).toEqual([1, 2, 1]);
    // Tried again as a copy sent to the queue, not requeued: a new message to the broker.
    t.expect(redeliveredFlags(got.items)).toEqual([false, false, false]);
    t.expect(errors.items).toHaveLength(1);
    const [{ error, message }] = errors.items as [(typeof errors.items)[number]];
    t.expect(error).toBeInstanceOf(CallbackError);
    t.expect((error.cause as Error).message).toBe("boom");
    t.expect(message?.payload).toBe("m1");
  },
};

const persistence: ConformanceCase = {
  id: "persistence",
  title: "a durable queue and a persistent message survive a reconnect (persistence)",
  async run(t) {
    if (!t.caps.persistence)
      t.skip("the backend does not declare `persistence`: its queues do not outlive a connection");
    const ep = new Endpoint(t, "q");
    const before = await t.connection();
    await ep.consumer(before, { durable: true }).declare();
    await t
      .publisher(before, { exchange: ep.exchange, routingKey: ep.routingKey, deliveryMode: 2 })
      .send("survivor");
    await before.close();
    const after = await t.connection();
    const got = await t.collect(ep.consumer(after, { durable: true }));
    const [message] = await got.count(1);
    t.expect(message!.payload).toBe("survivor");
    t.expect(message!.properties.deliveryMode).toBe(2);
    expectRedelivered(t.expect, [message!], () => false, "delivered first");
  },
};

const ttl: ConformanceCase = {
  id: "ttl",
  title:
    "TTL: messageTtl and per-message expiration expire messages, to the DLQ when deadLetter (messageTtl)",
  async run(t) {
    if (!t.caps.messageTtl) {
      const queue = t.trackQueue(t.name("ttl"));
      await t.refused(() => t.main.declareQueue({ name: queue, arguments: { messageTtl: 50 } }));
      const ep = new Endpoint(t, "q");
      await ep.consumer().declare();
      await t.refused(() => ep.publisher().send("expiring", { expiration: 50 }));
      return;
    }
    const ttlMs = 50;
    const route = deadLetterRoute(t);
    const args = t.caps.deadLetter ? route.queueArguments : {};
    const dead = t.caps.deadLetter ? await t.collect(route.dlq.consumer()) : undefined;
    const queueTtl = new Endpoint(t, "qttl", { ...args, messageTtl: ttlMs });
    const perMessage = new Endpoint(t, "msgttl", args);
    await queueTtl.consumer().declare();
    await perMessage.consumer().declare();
    await queueTtl.publisher().send("queue-ttl");
    await perMessage.publisher().send("message-ttl", { expiration: ttlMs });
    await perMessage.publisher().send("no-ttl");
    if (dead) {
      // Event-driven: expired messages show up on the dead-letter queue.
      await dead.count(2);
      expectExactly(t.expect, dead.items, ["message-ttl", "queue-ttl"], "the dead-letter queue");
      for (const [payload, ep] of [
        ["queue-ttl", queueTtl],
        ["message-ttl", perMessage],
      ] as const) {
        expectDeath(t.expect, dead.items.find((m) => m.payload === payload)!, {
          reason: "expired",
          queue: ep.queue,
          exchange: ep.exchange,
          routingKeys: [ep.routingKey],
        });
      }
    } else {
      // Last resort, without a dead-letter queue to observe: let the TTL pass.
      await delay(ttlMs * 4);
    }
    // Expired means gone from its queue: a fetch finds nothing. (A sentinel
    // cannot prove it here: on a 50 ms TTL queue the sentinel may expire too.)
    t.expect(await queueTtl.consumer().fetch()).toBeNull();
    const kept = await t.collect(perMessage.consumer());
    await perMessage.publisher().send(SENTINEL);
    await untilPayload(kept, SENTINEL);
    await t.nothingMoreOn(kept);
    expectExactly(t.expect, kept.items, [SENTINEL, "no-ttl"], "the per-message TTL queue");
  },
};

const priority: ConformanceCase = {
  id: "priority",
  title: "priority: on a maxPriority queue, higher priorities are delivered first (priority)",
  async run(t) {
    const ep = new Endpoint(t, "q", { maxPriority: 10 });
    if (!t.caps.priority) {
      await t.refused(() => ep.consumer().declare());
      return;
    }
    await ep.consumer().declare();
    const publisher = ep.publisher();
    const sends = [
      ["p1", 1],
      ["p5a", 5],
      ["p9", 9],
      ["p0", 0],
      ["p5b", 5],
    ] as const;
    // All queued before the consumer starts, so the order is the broker's choice alone.
    for (const [body, level] of sends) await publisher.send(body, { priority: level });
    const got = await t.collect(ep.consumer(t.main, { prefetchCount: 1 }));
    await got.count(sends.length);
    const order = t.caps.ordering ? ["p9", "p5a", "p5b", "p1", "p0"] : undefined;
    if (order)
      expectInOrder(t.expect, got.items, order, "a maxPriority queue, fed before its consumer");
    t.expect(got.items.map((m) => m.properties.priority)).toEqual([9, 5, 5, 1, 0]);
  },
};

const messageGroups: ConformanceCase = {
  id: "groups",
  title:
    "messageGroups: a group's next message waits while one is in flight, and a deduplicationId sent twice arrives once; without it, both are refused",
  async run(t) {
    if (t.caps.messageGroups) return groupsKept(t);
    const ep = new Endpoint(t, "q");
    const got = await t.collect(ep.consumer());
    const publisher = ep.publisher();
    await t.refused(() => publisher.send("grouped", { groupId: "g1" }));
    await t.refused(() => publisher.send("deduplicated", { deduplicationId: "d1" }));
    // Refused means not stored: only what is sent next arrives.
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, [SENTINEL], "after the refused sends");
  },
};

/**
 * What a group promises, on a group-keeping queue: while a consumer holds
 * a1, no one gets a2 (a later message of its group), while b1 (another
 * group, sent after a2) is free to go to anyone. Absence of a2 is proven by
 * b1's arrival where the backend has `ordering` (a2 would have come first);
 * elsewhere what is proven is that a2 did not come before b1, sent after it.
 */
async function groupsKept(t: TestKit): Promise<void> {
  const ep = new Endpoint(t, "q", {}, t.groupQueueName("groups"));
  const holding = ep.consumer(t.main, { prefetchCount: 1 });
  const holder = await t.collect(holding, "hold");
  const publisher = ep.publisher();
  await publisher.send("a1", { groupId: "a" });
  await holder.count(1);
  // Sent once a1 is in flight, so that no batch can take a1 and a2 together.
  await publisher.send("a2", { groupId: "a" });
  await publisher.send("b1", { groupId: "b" });
  const others = await t.collect(ep.consumer(await t.connection()), "hold");
  await untilPayload(others, "b1");
  expectExactly(t.expect, holder.items, ["a1"], "the consumer holding a1 (prefetch 1)");
  expectExactly(t.expect, others.items, ["b1"], "another consumer while a1 is held");
  await holder.items[0]!.ack();
  // a1 settled: a2 may go now, to either consumer.
  await Promise.any([untilPayload(others, "a2"), untilPayload(holder, "a2")]);
  for (const m of [...holder.items, ...others.items]) if (m.state === "pending") await m.ack();
  await holding.close();
  await publisher.send("dup", { groupId: "d", deduplicationId: "dup-1" });
  await publisher.send("dup", { groupId: "d", deduplicationId: "dup-1" });
  // In a group of its own: "dup" is held unsettled, which keeps its group waiting.
  await publisher.send(SENTINEL, { groupId: "s" });
  await untilPayload(others, SENTINEL);
  const later = others.items.filter((m) => m.payload === "dup" || m.payload === SENTINEL);
  expectExactly(t.expect, later, ["dup", SENTINEL], "two sends with one deduplicationId");
  for (const m of later) await m.ack();
}

const maxLength: ConformanceCase = {
  id: "max-length",
  title: "maxLength: the oldest messages are dropped (dead-lettered when deadLetter) (maxLength)",
  async run(t) {
    const route = deadLetterRoute(t);
    const args = t.caps.deadLetter ? route.queueArguments : {};
    const ep = new Endpoint(t, "q", { ...args, maxLength: 3 });
    if (!t.caps.maxLength) {
      await t.refused(() => ep.consumer().declare());
      return;
    }
    const dead = t.caps.deadLetter ? await t.collect(route.dlq.consumer()) : undefined;
    await ep.consumer().declare();
    const publisher = ep.publisher();
    for (const body of ["m1", "m2", "m3", "m4", "m5"]) await publisher.send(body);
    const got = await t.collect(ep.consumer());
    await got.count(3);
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.nothingMoreOn(got);
    expectExactly(t.expect, got.items, [SENTINEL, "m3", "m4", "m5"], "the maxLength 3 queue");
    if (dead) {
      await dead.count(2);
      expectExactly(t.expect, dead.items, ["m1", "m2"], "the dead-letter queue");
      for (const letter of dead.items)
        expectDeath(t.expect, letter, {
          reason: "maxlen",
          queue: ep.queue,
          exchange: ep.exchange,
          routingKeys: [ep.routingKey],
        });
    }
  },
};

const exclusive: ConformanceCase = {
  id: "exclusive",
  title:
    "exclusive queues: refused to other connections, deleted with their owner (exclusiveQueues)",
  async run(t) {
    const queue = t.trackQueue(t.name("excl"));
    if (!t.caps.exclusiveQueues) {
      await t.refused(() => t.main.declareQueue({ name: queue, exclusive: true }));
      return;
    }
    const owner = await t.connection();
    await owner.declareQueue({ name: queue, exclusive: true });
    await t
      .expect(t.main.declareQueue({ name: queue, exclusive: true }))
      .rejects.toBeInstanceOf(ResourceLockedError);
    await owner.close();
    // Gone with its owner: the same name now declares as a new, ordinary queue.
    await t.main.declareQueue({ name: queue });
    t.expect(await t.main.purgeQueue(queue)).toBe(0);
  },
};

const exclusiveOwnerKilled: ConformanceCase = {
  id: "exclusive-kill",
  title:
    "exclusive queues: when the owner's process is killed (SIGKILL), another connection can declare and consume the queue (exclusiveQueues)",
  async run(t) {
    const queue = t.trackQueue(t.name("excl"));
    if (!t.caps.exclusiveQueues) {
      await t.refused(() => t.main.declareQueue({ name: queue, exclusive: true }));
      return;
    }
    const processes = t.processes;
    if (!processes)
      return t.skip(
        "no `processes` option: the backend has no other process to kill (in-process, as memory is), so the broker has nothing to detect",
      );
    const owner = startChild(processes, "exclusive-owner", [queue]);
    t.atCleanup(() => owner.child.kill("SIGKILL"));
    await t.within("the owner process to declare its exclusive queue", () => owner.ready);
    await t
      .expect(t.main.declareQueue({ name: queue, exclusive: true }))
      .rejects.toBeInstanceOf(ResourceLockedError);
    owner.child.kill("SIGKILL");
    // The broker learns of the death when the kernel closes the socket: retry until it has.
    const ep = new Endpoint(t, "excl", {}, queue);
    const consumer = ep.consumer(t.main, { exclusive: true });
    await t.within("the broker to release the dead owner's exclusive queue", async () => {
      for (;;) {
        const declared = await consumer.declare().then(
          () => true,
          (error: unknown) => {
            if (error instanceof ResourceLockedError) return false;
            throw error;
          },
        );
        if (declared) return;
        await delay(50);
      }
    });
    const got = await t.collect(consumer);
    await ep.publisher().send("after-kill");
    await untilPayload(got, "after-kill");
    expectExactly(t.expect, got.items, ["after-kill"], "the queue declared again after the kill");
  },
};

const closeDisconnects: ConformanceCase = {
  id: "close-disconnect",
  title: "close() emits one 'disconnect', without an error, before it resolves",
  async run(t) {
    const connection = await t.connection();
    const reported: (Error | undefined)[] = [];
    connection.on("disconnect", ({ error }) => reported.push(error));
    await connection.close();
    t.expect(reported).toEqual([undefined]);
    await connection.close();
    t.expect(reported).toEqual([undefined]);
  },
};

/** Declarations and conflicts, passive and no declarations, throwing callbacks, close, persistence, TTL, priority, message groups, maxLength, exclusive queues, connection events. `describeLifecycle` runs it. */
export const lifecycle: ConformanceGroup = {
  name: "lifecycle",
  cases: [
    idempotentDeclare,
    conflictingDeclare,
    passiveConsumer,
    undeclaredConsumer,
    closeWaits,
    throwingCallback,
    persistence,
    ttl,
    priority,
    messageGroups,
    maxLength,
    exclusive,
    exclusiveOwnerKilled,
    closeDisconnects,
  ],
};
