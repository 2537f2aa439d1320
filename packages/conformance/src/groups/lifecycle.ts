import { CallbackError, DeclarationConflictError, ResourceLockedError } from "@carrot/core";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { deadLetterRoute, Endpoint } from "../endpoint.js";
import { payloads, redeliveredFlags, sortedPayloads, untilPayload } from "../received.js";
import { deferred, delay } from "../wait-for.js";

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
    await t.quietPeriodIfUnordered();
    // Not purged by the redeclare, and the repeated binding does not double the delivery.
    t.expect(sortedPayloads(got.items)).toEqual([SENTINEL, "kept", "once"]);
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
    await t.quietPeriodIfUnordered();
    t.expect(payloads(started.items)).toEqual(["slow"]);
    t.expect(sortedPayloads(second.items)).toEqual(["after-1", "after-2"]);
    // Not even handed to the closed consumer and back: that would mark them redelivered.
    t.expect(redeliveredFlags(second.items)).toEqual([false, false]);
  },
};

const throwingCallback: ConformanceCase = {
  id: "callback-throws",
  title:
    "a callback that throws leaves the consumer running and the message not lost (redelivered)",
  async run(t) {
    const ep = new Endpoint(t, "q");
    const consumer = ep.consumer();
    const errors = t.errors(consumer);
    const got = await t.collect(consumer, async (message) => {
      if (message.payload === "m1" && !message.deliveryInfo.redelivered) throw new Error("boom");
      await message.ack();
    });
    const publisher = ep.publisher();
    await publisher.send("m1");
    await errors.count(1);
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.quietPeriodIfUnordered();
    t.expect(payloads(got.items)).toEqual(["m1", "m1", SENTINEL]);
    t.expect(redeliveredFlags(got.items)).toEqual([false, true, false]);
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
    t.expect(message!.deliveryInfo.redelivered).toBe(false);
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
      t.expect(sortedPayloads(dead.items)).toEqual(["message-ttl", "queue-ttl"]);
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
    await t.quietPeriodIfUnordered();
    t.expect(sortedPayloads(kept.items)).toEqual([SENTINEL, "no-ttl"]);
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
    if (order) t.expect(payloads(got.items)).toEqual(order);
    t.expect(got.items.map((m) => m.properties.priority)).toEqual([9, 5, 5, 1, 0]);
  },
};

const messageGroups: ConformanceCase = {
  id: "groups",
  title: "groupId and deduplicationId per send are refused when not declared (messageGroups)",
  async run(t) {
    if (t.caps.messageGroups) {
      t.skip(
        "the backend declares `messageGroups`: group order and deduplication windows are its own (e.g. SQS FIFO queues), so its own tests cover them",
      );
    }
    const ep = new Endpoint(t, "q");
    const got = await t.collect(ep.consumer());
    const publisher = ep.publisher();
    await t.refused(() => publisher.send("grouped", { groupId: "g1" }));
    await t.refused(() => publisher.send("deduplicated", { deduplicationId: "d1" }));
    // Refused means not stored: only what is sent next arrives.
    await publisher.send(SENTINEL);
    await untilPayload(got, SENTINEL);
    await t.quietPeriodIfUnordered();
    t.expect(sortedPayloads(got.items)).toEqual([SENTINEL]);
  },
};

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
    await t.quietPeriodIfUnordered();
    t.expect(sortedPayloads(got.items)).toEqual([SENTINEL, "m3", "m4", "m5"]);
    if (dead) {
      await dead.count(2);
      t.expect(sortedPayloads(dead.items)).toEqual(["m1", "m2"]);
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

export const lifecycle: ConformanceGroup = {
  name: "lifecycle",
  cases: [
    idempotentDeclare,
    conflictingDeclare,
    closeWaits,
    throwingCallback,
    persistence,
    ttl,
    priority,
    messageGroups,
    maxLength,
    exclusive,
    closeDisconnects,
  ],
};
