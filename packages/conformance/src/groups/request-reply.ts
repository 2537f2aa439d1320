import {
  ClosedError,
  type Message,
  type MessageProperties,
  NotFoundError,
  type Publisher,
  RequestTimeoutError,
} from "@carrot/core";
import { startChild } from "../child-process.js";
import type { Collector } from "../collector.js";
import type { ConformanceCase, ConformanceGroup } from "../conformance-case.js";
import { Endpoint } from "../endpoint.js";
import type { Settle, TestKit } from "../test-kit.js";
import { delay, withTimeout } from "../wait-for.js";

/** The request's headers, and the one compression adds: none may come back on the reply. */
const REQUEST_HEADERS = { asked: "yes" };
const COMPRESSION_HEADER = "compression";

/**
 * Whether the backend answers requests: it opens reply destinations
 * (`openReplies`), or core makes exclusive reply queues on it. Otherwise
 * `request()` must be refused, never left to time out.
 */
async function answers(t: TestKit): Promise<boolean> {
  const backend = await t.main.ready();
  if (typeof backend.openReplies === "function" || t.caps.exclusiveQueues) return true;
  const ep = new Endpoint(t, "rr");
  await ep.consumer().declare();
  await t.refused(() => ep.publisher().request("refused", { timeout: t.timeoutMs }));
  return false;
}

/** A responder on the main connection: its queue is declared before this resolves; `settle` answers each request. */
async function responder(
  t: TestKit,
  ep: Endpoint,
  settle: Settle<unknown>,
  prefetchCount?: number,
): Promise<Collector<Message<unknown>>> {
  return t.collect<unknown>(
    ep.consumer<unknown>(t.main, prefetchCount === undefined ? {} : { prefetchCount }),
    settle,
  );
}

/** A publisher to the endpoint on a connection of its own: the requester. */
async function requester(t: TestKit, ep: Endpoint): Promise<Publisher<unknown>> {
  return ep.publisher<unknown>(await t.connection());
}

/** Replies with the request's payload doubled and acks: what most cases' responder does. */
async function doubled(request: Message<unknown>): Promise<void> {
  await request.reply({ doubled: 2 * (request.payload as { n: number }).n });
  await request.ack();
}

function propertiesOf(p: MessageProperties): Record<string, unknown> {
  return {
    messageId: p.messageId,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    priority: p.priority,
    type: p.type,
    appId: p.appId,
    deliveryMode: p.deliveryMode,
    timestamp: p.timestamp?.getTime(),
  };
}

const roundTrip: ConformanceCase = {
  id: "rr-round-trip",
  title:
    "request() resolves to the reply: its payload, properties and headers as the responder sent them, with the request's correlation id, and nothing of the request's headers or compression",
  async run(t) {
    if (!(await answers(t))) return;
    // Whole seconds: AMQP timestamps have a resolution of one second.
    const timestamp = new Date(Math.floor(Date.now() / 1000) * 1000);
    const ep = new Endpoint(t, "rr");
    const requests = await responder(t, ep, async (request) => {
      await request.reply(
        { echo: request.payload },
        {
          messageId: `reply-to-${request.properties.messageId}`,
          priority: 3,
          type: "answer",
          appId: "responder",
          deliveryMode: "transient",
          timestamp,
          headers: { answered: "yes" },
        },
      );
      await request.ack();
    });
    const publisher = await requester(t, ep);
    const reply = await publisher.request(
      { n: 1 },
      { messageId: "q1", headers: REQUEST_HEADERS, compression: "gzip", timeout: t.timeoutMs },
    );
    const [request] = requests.items;
    t.expect(request!.payload).toEqual({ n: 1 });
    t.expect(request!.headers.asked).toBe("yes");
    t.expect(typeof request!.headers[COMPRESSION_HEADER]).toBe("string");
    const { correlationId, replyTo } = request!.properties;
    t.expect(typeof correlationId === "string" && correlationId !== "").toBe(true);
    t.expect(typeof replyTo === "string" && replyTo !== "").toBe(true);

    t.expect(reply.payload).toEqual({ echo: { n: 1 } });
    t.expect(reply.contentType).toBe("application/json");
    t.expect(propertiesOf(reply.properties)).toEqual({
      messageId: "reply-to-q1",
      correlationId,
      replyTo: undefined,
      priority: 3,
      type: "answer",
      appId: "responder",
      deliveryMode: 1,
      timestamp: timestamp.getTime(),
    });
    // Backends may add headers of their own; the reply's are there, the request's are not.
    t.expect(reply.headers.answered).toBe("yes");
    t.expect([reply.headers.asked, reply.headers[COMPRESSION_HEADER]]).toEqual([
      undefined,
      undefined,
    ]);
    t.expect(reply.noAck).toBe(true);

    // A correlation id given is the one sent and answered; the same reply destination serves both.
    const second = await publisher.request(
      { n: 2 },
      { correlationId: "given-2", timeout: t.timeoutMs },
    );
    t.expect(second.payload).toEqual({ echo: { n: 2 } });
    t.expect(second.properties.correlationId).toBe("given-2");
    t.expect(requests.items[1]!.properties.correlationId).toBe("given-2");
    t.expect(requests.items[1]!.properties.replyTo).toBe(replyTo);
    t.expect(requests.length).toBe(2);
  },
};

const CONCURRENT = 50;

const concurrent: ConformanceCase = {
  id: "rr-concurrent",
  title: `${CONCURRENT} concurrent requests on one connection share one reply destination, and each resolves to its own reply (answered in reverse order)`,
  async run(t) {
    if (!(await answers(t))) return;
    const ep = new Endpoint(t, "rr");
    // Held until all have come, then answered last first: matched by correlation id, not by order.
    const requests = await responder(t, ep, "hold", CONCURRENT);
    const publisher = await requester(t, ep);
    const replies = Array.from({ length: CONCURRENT }, (_, n) =>
      publisher.request({ n }, { timeout: 3 * t.timeoutMs }),
    );
    await requests.count(CONCURRENT);
    for (const request of [...requests.items].reverse()) await doubled(request);
    const answered = await Promise.all(replies);
    t.expect(answered.map((reply) => reply.payload)).toEqual(
      Array.from({ length: CONCURRENT }, (_, n) => ({ doubled: 2 * n })),
    );
    t.expect(new Set(requests.items.map((r) => r.properties.replyTo)).size).toBe(1);
    t.expect(new Set(requests.items.map((r) => r.properties.correlationId)).size).toBe(CONCURRENT);
    t.expect(requests.length).toBe(CONCURRENT);
  },
};

const timeout: ConformanceCase = {
  id: "rr-timeout",
  title:
    "a request with no reply within its timeout rejects with RequestTimeoutError, and its reply, sent late, reaches no later request",
  async run(t) {
    if (!(await answers(t))) return;
    const ep = new Endpoint(t, "rr");
    const late: Message<unknown>[] = [];
    const requests = await responder(t, ep, async (request) => {
      if ((request.payload as { n: number }).n === 1)
        late.push(request); // answered later
      else await doubled(request);
    });
    const publisher = await requester(t, ep);
    // Opens the reply destination, so that the timed request is sent at once.
    t.expect((await publisher.request({ n: 0 }, { timeout: t.timeoutMs })).payload).toEqual({
      doubled: 0,
    });
    await t
      .expect(publisher.request({ n: 1 }, { timeout: 500 }))
      .rejects.toBeInstanceOf(RequestTimeoutError);
    await requests.count(2);
    t.expect(late.length).toBe(1);
    await doubled(late[0]!);
    // The late reply { doubled: 2 } is on its way, or in: the next request gets its own.
    const next = await publisher.request({ n: 3 }, { timeout: t.timeoutMs });
    t.expect(next.payload).toEqual({ doubled: 6 });
    t.expect(next.properties.correlationId).toBe(requests.items[2]!.properties.correlationId);
    const after = await publisher.request({ n: 4 }, { timeout: t.timeoutMs });
    t.expect(after.payload).toEqual({ doubled: 8 });
  },
};

const closePending: ConformanceCase = {
  id: "rr-close",
  title:
    "closing the requester's connection rejects its waiting requests with ClosedError and removes its reply destination; replies sent to it after are dropped without an error",
  async run(t) {
    if (!(await answers(t))) return;
    const ep = new Endpoint(t, "rr");
    const held: Message<unknown>[] = [];
    const requests = await responder(t, ep, async (request) => {
      if ((request.payload as { n: number }).n === 0) await doubled(request);
      else held.push(request);
    });
    const connection = await t.connection();
    const publisher = t.publisher<unknown>(connection, {
      exchange: ep.exchange,
      routingKey: ep.routingKey,
    });
    // Answered: the responder's connection has sent to the reply destination before.
    await publisher.request({ n: 0 }, { timeout: t.timeoutMs });
    const waiting = [1, 2, 3].map((n) => publisher.request({ n }, { timeout: 3 * t.timeoutMs }));
    await requests.count(4);
    await t.within("close of the requester's connection", () => connection.close());
    for (const request of waiting) await t.expect(request).rejects.toBeInstanceOf(ClosedError);
    const replyTo = held[0]!.properties.replyTo!;
    await t.within("replies to the closed requester", () =>
      Promise.all(held.map((request) => doubled(request))),
    );
    await t
      .expect(t.main.declareQueue({ name: replyTo, passive: true }))
      .rejects.toBeInstanceOf(NotFoundError);
  },
};

/** Pause between looks at a dead requester's reply destination: a probe each time, not a spin. */
const PROBE_INTERVAL_MS = 200;

const deadRequester: ConformanceCase = {
  id: "rr-dead",
  title:
    "a requester killed (SIGKILL) leaves no reply destination behind once the backend's bound has passed (the suite's settings keep it under twice `timeoutMs`), and a reply to it is no error",
  budget: 8,
  async run(t) {
    if (!(await answers(t))) return;
    const processes = t.processes;
    if (!processes)
      return t.skip(
        "no `processes` option: the backend has no other process to kill (in-process, as memory is: its reply queues die with the process)",
      );
    const ep = new Endpoint(t, "rr");
    const requests = await responder(t, ep, async (request) => {
      await request.reply("pong");
      await request.ack();
    });
    const child = startChild(processes, "requester", [ep.queue]);
    t.atCleanup(() => child.child.kill("SIGKILL"));
    await t.within("the requester process to get its reply", () => child.ready);
    const request = requests.items[0]!;
    const replyTo = request.properties.replyTo!;
    await t.main.declareQueue({ name: replyTo, passive: true }); // there while its owner lives
    child.child.kill("SIGKILL");
    // Gone by the backend's own means (the broker sees the socket close, a key
    // expires), or swept by the next requester that opens a destination: each
    // look makes one, from a connection it then closes.
    const probe = ep.publisher<unknown>(await t.connection());
    const step = "the dead requester's reply destination to go";
    t.begin(step);
    // Twice the usual wait: the backend's bound (SQS: visibilityTimeout) plus the probes.
    const gone = async () => {
      for (;;) {
        const missing = await t.main.declareQueue({ name: replyTo, passive: true }).then(
          () => false,
          (error: unknown) => {
            if (error instanceof NotFoundError) return true;
            throw error;
          },
        );
        if (missing) return;
        const prober = await t.connection();
        await ep.publisher<unknown>(prober).request("probe", { timeout: t.timeoutMs });
        await prober.close();
        await delay(PROBE_INTERVAL_MS);
      }
    };
    await withTimeout(gone(), 2 * t.timeoutMs, step);
    await t.within("a reply to the dead requester", () => request.reply("after its death"));
    // The responder and the broker carry on.
    t.expect((await probe.request("still", { timeout: t.timeoutMs })).payload).toBe("pong");
  },
};

/**
 * Request-reply: round trips, concurrent requests, timeouts and late
 * replies, close, and a killed requester's reply destination (with
 * `options.processes`; the suite's settings must make the backend's bound
 * for it, such as a visibility timeout, well under twice `timeoutMs`).
 * Run on backends that open reply destinations or have exclusive queues;
 * on others, `request()` must be refused. `describeRequestReply` runs it.
 */
export const requestReply: ConformanceGroup = {
  name: "request-reply",
  cases: [roundTrip, concurrent, timeout, closePending, deadRequester],
};
