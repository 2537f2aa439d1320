import { afterEach, describe, expect, it, vi } from "vitest";
import { Connection } from "../src/connection.js";
import { Consumer, type ConsumerOptions } from "../src/consumer.js";
import type { Backend, Headers, PublishRequest } from "../src/contract.js";
import {
  CallbackError,
  type CarrotError,
  ConnectionLostError,
  InvalidOptionsError,
  MessageStateError,
  NotFoundError,
  PublishNackedError,
  PublishTimeoutError,
  UnroutableError,
  UnsupportedFeatureError,
} from "../src/errors.js";
import { FAILURE_HEADERS, readFailureRecord } from "../src/failure-record.js";
import type { Message } from "../src/message.js";
import {
  type DeliveryShape,
  policyCapabilities,
  recordingBackend,
} from "./support/recording-backend.js";

// The failure policy's pipeline, on a backend that records what it is asked
// to do: the copy it publishes, where, and in which order with the settle
// of the original; each exhausted path; and what happens when a step fails.

const H = FAILURE_HEADERS;
const earlier = new Date("2026-01-01T00:00:00Z");
/** The headers of a copy after `attempts` failed deliveries, first sent to x/k. */
const copyAfter = (attempts: number): Headers => ({
  [H.attempts]: attempts,
  [H.firstFailure]: earlier,
  [H.lastFailure]: earlier,
  [H.originalExchange]: "x",
  [H.originalRoutingKey]: "k",
});
/** No jitter and a short initial wait: the delays are exact. */
const EXACT = { backoff: { initial: 100, jitter: "none" } } as const;

const open: Connection[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((connection) => connection.close()));
});

function connect(backend: Backend): Connection {
  const connection = new Connection({ backend });
  open.push(connection);
  return connection;
}

type Test = ReturnType<typeof recordingBackend>;

/** One delivery through a callback that throws `thrown`: what the consumer reported, and the message. */
async function callbackThrows(
  backend: Test,
  options: Partial<ConsumerOptions> = {},
  thrown: unknown = new TypeError("no such field"),
) {
  const consumer = new Consumer(connect(backend), { queue: "q", ...options });
  const reports: { error: CallbackError; message?: Message }[] = [];
  consumer.on("error", (error, message) =>
    reports.push({ error: error as CallbackError, message }),
  );
  consumer.registerCallback(() => {
    throw thrown;
  });
  await consumer.wait({ limit: 1 });
  expect(reports).toHaveLength(1);
  const [report] = reports;
  expect(report!.error).toBeInstanceOf(CallbackError);
  expect(report!.error.cause).toBe(thrown);
  return { text: report!.error.message, message: report!.message!, backend };
}

/** A recording backend with one delivery "m" of queue q, carrying `headers`. */
function withDelivery(
  headers: Headers = {},
  shape: DeliveryShape = {},
  capabilities = policyCapabilities(),
): Test {
  const backend = recordingBackend(capabilities);
  backend.deliver("m", { headers, ...shape });
  return backend;
}

/** Makes `publish` fail with `error` for requests that `matches`. */
function failPublish(backend: Test, matches: (r: PublishRequest) => boolean, error: Error): void {
  const publish = backend.publish;
  backend.publish = (request) => (matches(request) ? Promise.reject(error) : publish(request));
}

describe("a callback that throws: retried", () => {
  it("publishes the copy to the queue alone, then acks the original", async () => {
    const backend = withDelivery({ app: "kept" }, { info: { exchange: "x", routingKey: "k" } });
    const { text, message } = await callbackThrows(backend, { retry: EXACT });
    expect(text).toBe(
      "a callback on 'q' threw; the message was retried in 100 ms (attempt 1 of 3)",
    );
    expect(backend.log).toEqual(["publish /q", "ack m"]);
    expect(message.state).toBe("retried");
    const [copy] = backend.published;
    expect(copy).toMatchObject({ exchange: "", routingKey: "q", mandatory: false, delay: 100 });
    expect(copy!.groupId).toBeUndefined();
    expect(Buffer.from(copy!.message.body).toString()).toBe('{"id":"m"}');
    expect(copy!.message).toMatchObject({
      contentType: "application/json",
      contentEncoding: "utf-8",
      properties: { deliveryMode: 2 },
    });
    expect(copy!.message.headers.app).toBe("kept");
    const record = readFailureRecord(copy!.message.headers);
    expect(record).toMatchObject({
      attempts: 1,
      errorName: "TypeError",
      errorMessage: "no such field",
      originalExchange: "x",
      originalRoutingKey: "k",
    });
    expect(record!.firstFailure).toEqual(record!.lastFailure);
  });

  it("a copy failing again waits the next backoff step and keeps its first failure", async () => {
    const backend = withDelivery(copyAfter(1), { info: { exchange: "", routingKey: "q" } });
    const { text } = await callbackThrows(backend, { retry: EXACT });
    expect(text).toMatch(/retried in 200 ms \(attempt 2 of 3\)$/);
    const record = readFailureRecord(backend.published[0]!.message.headers);
    expect(record).toMatchObject({ attempts: 2, firstFailure: earlier, originalRoutingKey: "k" });
    expect(record!.lastFailure.getTime()).toBeGreaterThan(earlier.getTime());
  });

  it("counts the broker's redeliveries as attempts", async () => {
    const backend = withDelivery({}, { info: { deliveryCount: 2 } });
    const { text } = await callbackThrows(backend, { retry: EXACT });
    expect(text).toMatch(/retried in 200 ms \(attempt 2 of 3\)$/);
  });

  it("sends a retry due at once without a delay", async () => {
    const backend = withDelivery();
    const { text } = await callbackThrows(backend, { retry: { backoff: { initial: 0 } } });
    expect(text).toMatch(/retried at once \(attempt 1 of 3\)$/);
    expect("delay" in backend.published[0]!).toBe(false);
  });

  it("says when attempts are unlimited", async () => {
    const backend = withDelivery(copyAfter(4));
    const { text } = await callbackThrows(backend, {
      retry: { ...EXACT, attempts: Number.POSITIVE_INFINITY },
    });
    expect(text).toMatch(/retried in 1600 ms \(attempt 5 of unlimited\)$/);
  });

  it("on a backend without delays, retries at once and says the backoff was skipped", async () => {
    const backend = withDelivery({}, {}, policyCapabilities({ delayedDelivery: undefined }));
    const { text } = await callbackThrows(backend, { retry: EXACT });
    expect(text).toMatch(
      /retried at once \(attempt 1 of 3\); the recording backend cannot delay a message, so the backoff of 100 ms was skipped$/,
    );
    expect("delay" in backend.published[0]!).toBe(false);
    expect(backend.log).toEqual(["publish /q", "ack m"]);
  });

  it("keeps a grouped message in its group, with a deduplication id of its own", async () => {
    const backend = withDelivery(
      {},
      { info: { groupId: "g" } },
      policyCapabilities({ messageGroups: true }),
    );
    await callbackThrows(backend, { retry: EXACT });
    const [copy] = backend.published;
    expect(copy!.groupId).toBe("g");
    expect(copy!.deduplicationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("keeps the properties, but not another connection's userId (RabbitMQ would refuse the copy)", async () => {
    const properties = { messageId: "id-1", priority: 3, userId: "alice", timestamp: earlier };
    const backend = withDelivery({}, { message: { properties } });
    await callbackThrows(backend, { retry: EXACT });
    expect(backend.published[0]!.message.properties).toEqual({
      messageId: "id-1",
      priority: 3,
      timestamp: earlier,
    });
  });

  it("records whatever was thrown", async () => {
    const backend = withDelivery();
    await callbackThrows(backend, { retry: EXACT }, "just text");
    expect(readFailureRecord(backend.published[0]!.message.headers)).toMatchObject({
      errorName: "string",
      errorMessage: "just text",
    });
  });
});

describe("a callback that throws on its last attempt", () => {
  it("failed-queue (the default without a dead-letter exchange): declares it, publishes, acks", async () => {
    const backend = withDelivery(copyAfter(2));
    const { text, message } = await callbackThrows(backend);
    expect(text).toBe(
      "a callback on 'q' threw; the message was moved to 'q.failed' after 3 attempts",
    );
    expect(backend.declaredQueues.filter((q) => q.name === "q.failed")).toEqual([
      { name: "q.failed", durable: true, exclusive: false, autoDelete: false, arguments: {} },
    ]);
    expect(backend.log).toEqual(["publish /q.failed", "ack m"]);
    expect(backend.published[0]).toMatchObject({ mandatory: true });
    expect("delay" in backend.published[0]!).toBe(false);
    expect(readFailureRecord(backend.published[0]!.message.headers)).toMatchObject({
      attempts: 3,
      errorName: "TypeError",
      firstFailure: earlier,
    });
    expect(message.state).toBe("rejected");
  });

  it("uses the backend's name for the failed queue", async () => {
    const backend = withDelivery(copyAfter(2));
    backend.failedQueueName = (queue) => `${queue}-failed`;
    const { text } = await callbackThrows(backend);
    expect(text).toMatch(/moved to 'q-failed' after 3 attempts$/);
    expect(backend.log).toEqual(["publish /q-failed", "ack m"]);
  });

  it("declares the failed queue once per consumer, and again after a failed declaration", async () => {
    const backend = recordingBackend();
    for (const id of ["a", "b", "c"]) backend.deliver(id);
    let refuse = true;
    const declare = backend.declareQueue;
    backend.declareQueue = async (queue) => {
      if (queue.name === "q.failed" && refuse) {
        refuse = false;
        throw new ConnectionLostError("declaring q.failed: the connection dropped");
      }
      return declare(queue);
    };
    const consumer = new Consumer(connect(backend), { queue: "q", retry: { attempts: 1 } });
    const texts: string[] = [];
    consumer.on("error", (error) => texts.push(error.message));
    for (let message = await consumer.fetch(); message; message = await consumer.fetch())
      texts.push(`${await message.afterCallbackError(new Error("boom"))}`);
    expect(texts).toEqual([
      "requeued as it was: its move could not be sent (ConnectionLostError: declaring q.failed: the connection dropped)",
      "moved to 'q.failed' after 1 attempt",
      "moved to 'q.failed' after 1 attempt",
    ]);
    expect(backend.declaredQueues.filter((q) => q.name === "q.failed")).toHaveLength(1);
    expect(backend.log).toEqual([
      "requeue a",
      "publish /q.failed",
      "ack b",
      "publish /q.failed",
      "ack c",
    ]);
  });

  it("declares the failed queue again when it was deleted since (the publish is unroutable)", async () => {
    const backend = recordingBackend();
    for (const id of ["a", "b"]) backend.deliver(id);
    const consumer = new Consumer(connect(backend), { queue: "q", retry: { attempts: 1 } });
    await (await consumer.fetch())!.retry();
    // Deleted by hand since: the next publish to it is unroutable, once.
    const publish = backend.publish;
    let deleted = true;
    backend.publish = (request) => {
      if (request.routingKey !== "q.failed" || !deleted) return publish(request);
      deleted = false;
      return Promise.reject(new UnroutableError("no queue q.failed"));
    };
    const second = (await consumer.fetch())!;
    await second.retry();
    expect(second.state).toBe("rejected");
    expect(backend.declaredQueues.filter((q) => q.name === "q.failed")).toHaveLength(2);
    expect(backend.log).toEqual(["publish /q.failed", "ack a", "publish /q.failed", "ack b"]);
  });

  const DLX = { queueArguments: { deadLetterExchange: "dlx" } };

  it("dead-letter (the default with a dead-letter exchange): to it, by the first routing key", async () => {
    const backend = withDelivery(copyAfter(2), { info: { exchange: "", routingKey: "q" } });
    const { text, message } = await callbackThrows(backend, DLX);
    expect(text).toMatch(/was dead-lettered to 'dlx' with routing key 'k' after 3 attempts$/);
    expect(backend.log).toEqual(["publish dlx/k", "ack m"]);
    expect(backend.published[0]).toMatchObject({ mandatory: true });
    expect(readFailureRecord(backend.published[0]!.message.headers)).toMatchObject({
      attempts: 3,
      errorMessage: "no such field",
    });
    expect(message.state).toBe("rejected");
  });

  it("dead-letter uses the queue's deadLetterRoutingKey when it has one", async () => {
    const backend = withDelivery(copyAfter(2));
    await callbackThrows(backend, {
      queueArguments: { deadLetterExchange: "dlx", deadLetterRoutingKey: "dead" },
    });
    expect(backend.log).toEqual(["publish dlx/dead", "ack m"]);
  });

  it("dead-letter is not mandatory where the backend cannot say (no `mandatory`)", async () => {
    const backend = withDelivery(copyAfter(2), {}, policyCapabilities({ mandatory: false }));
    await callbackThrows(backend, DLX);
    expect(backend.published[0]).toMatchObject({ exchange: "dlx", mandatory: false });
  });

  it.each([
    [new UnroutableError("no queue"), "routed it to no queue (routing key 'k')"],
    [new NotFoundError("no exchange 'dlx'"), "does not exist"],
  ])("dead-letter falls back to the failed queue when %s", async (error, why) => {
    const backend = withDelivery(copyAfter(2));
    failPublish(backend, (r) => r.exchange === "dlx", error);
    const { text, message } = await callbackThrows(backend, DLX);
    expect(text).toMatch(
      new RegExp(
        `moved to 'q.failed' after 3 attempts: the dead-letter exchange 'dlx' ${why.replace(/[()]/g, "\\$&")}$`,
      ),
    );
    expect(backend.log).toEqual(["publish /q.failed", "ack m"]);
    expect(message.state).toBe("rejected");
  });

  it("drop: rejects the original, sends nothing", async () => {
    const backend = withDelivery(copyAfter(2));
    const { text, message } = await callbackThrows(backend, { retry: { exhausted: "drop" } });
    expect(text).toMatch(/was dropped after 3 attempts \(exhausted: "drop"\)$/);
    expect(backend.log).toEqual(["reject m"]);
    expect(backend.published).toEqual([]);
    expect(message.state).toBe("rejected");
  });

  it("drop on a queue with a dead-letter exchange says the broker dead-letters it", async () => {
    const backend = withDelivery(copyAfter(2));
    const { text } = await callbackThrows(backend, {
      ...DLX,
      retry: { exhausted: "drop" },
    });
    expect(text).toMatch(
      /was rejected \(the broker dead-letters it to 'dlx'\) after 3 attempts \(exhausted: "drop"\)$/,
    );
  });
});

describe("when a step of the policy fails", () => {
  it("a retry that cannot be sent requeues the original as it was, and says why", async () => {
    const backend = withDelivery();
    failPublish(backend, () => true, new PublishNackedError("the broker refused it"));
    const { text, message } = await callbackThrows(backend, { retry: EXACT });
    expect(text).toBe(
      "a callback on 'q' threw; the message was requeued as it was: its retry could not be sent (PublishNackedError: the broker refused it)",
    );
    expect(backend.log).toEqual(["requeue m"]);
    expect(message.state).toBe("requeued");
  });

  it("an exhausted move that cannot be sent requeues the original too", async () => {
    const backend = withDelivery(copyAfter(2));
    failPublish(backend, () => true, new PublishNackedError("full"));
    const { text } = await callbackThrows(backend);
    expect(text).toMatch(
      /requeued as it was: its move could not be sent \(PublishNackedError: full\)$/,
    );
    expect(backend.log).toEqual(["requeue m"]);
  });

  it("a copy too large for the backend once the record is added is a failed send: requeued", async () => {
    const body = new TextEncoder().encode(JSON.stringify("a".repeat(998))); // 1000 bytes
    const backend = withDelivery(
      {},
      { message: { body } },
      policyCapabilities({ maxMessageSize: 1000 }),
    );
    backend.measure = (message) =>
      message.body.byteLength + JSON.stringify(Object.keys(message.headers)).length;
    const { text } = await callbackThrows(backend, { retry: EXACT });
    expect(text).toMatch(
      /requeued as it was: its retry could not be sent \(MessageTooLargeError: /,
    );
    expect(backend.log).toEqual(["requeue m"]);
  });

  it("when the requeue fails too, leaves the message to the broker and says so", async () => {
    const backend = recordingBackend();
    const delivery = backend.deliver("m");
    delivery.reject = async () => {
      throw new ConnectionLostError("gone too");
    };
    failPublish(backend, () => true, new ConnectionLostError("gone"));
    const { text, message } = await callbackThrows(backend, { retry: EXACT });
    expect(text).toBe(
      "a callback on 'q' threw; the message was left for the broker to deliver again: its retry could not be sent (ConnectionLostError: gone), and the requeue failed too (ConnectionLostError: gone too)",
    );
    expect(message.state).toBe("requeued");
  });

  it("an ack that fails after the copy was sent says the broker will deliver it again", async () => {
    const backend = recordingBackend();
    backend.deliver("m").ack = async () => {
      throw new ConnectionLostError("the ack was lost");
    };
    const { text, message } = await callbackThrows(backend, { retry: EXACT });
    expect(text).toMatch(
      /retried in 100 ms \(attempt 1 of 3\), but this delivery's ack failed \(ConnectionLostError: the ack was lost\): the broker will deliver it again too$/,
    );
    expect(message.state).toBe("retried");
  });

  it("a copy the broker never confirms times out after 30 s, and the original is requeued", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const backend = withDelivery();
    backend.publish = () => new Promise(() => {});
    const consumer = new Consumer(connect(backend), { queue: "q", retry: EXACT });
    const message = (await consumer.fetch())!;
    const outcome = message.retry().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await outcome).toBeInstanceOf(PublishTimeoutError);
    expect(backend.log).toEqual(["requeue m"]);
    expect(message.state).toBe("requeued");
  });
});

describe("message.retry()", () => {
  async function fetched(headers: Headers = {}, options: Partial<ConsumerOptions> = {}) {
    const backend = withDelivery(headers);
    const consumer = new Consumer(connect(backend), { queue: "q", retry: EXACT, ...options });
    const errors: unknown[] = [];
    consumer.on("error", (error) => errors.push(error));
    return { backend, message: (await consumer.fetch())!, errors };
  }

  it("retries after the delay asked for, without an error in the record, reporting nothing", async () => {
    const { backend, message, errors } = await fetched();
    await message.retry({ delay: 5_000 });
    expect(backend.log).toEqual(["publish /q", "ack m"]);
    expect(backend.published[0]).toMatchObject({ exchange: "", routingKey: "q", delay: 5_000 });
    const record = readFailureRecord(backend.published[0]!.message.headers);
    expect(record).toMatchObject({ attempts: 1, originalExchange: "x", originalRoutingKey: "k" });
    expect(record!.errorName).toBeUndefined();
    expect(message.state).toBe("retried");
    expect(errors).toEqual([]);
  });

  it("without a delay waits the policy's backoff; delay 0 is at once", async () => {
    const first = await fetched();
    await first.message.retry();
    expect(first.backend.published[0]).toMatchObject({ delay: 100 });
    const second = await fetched();
    await second.message.retry({ delay: 0 });
    expect("delay" in second.backend.published[0]!).toBe(false);
  });

  it("past the policy's attempts takes the exhausted path", async () => {
    const { backend, message } = await fetched(copyAfter(2));
    await message.retry({ delay: 5_000 });
    expect(backend.log).toEqual(["publish /q.failed", "ack m"]);
    expect(message.state).toBe("rejected");
  });

  it("settles the message: no second settle, no second retry", async () => {
    const { message } = await fetched();
    await message.retry();
    await expect(message.ack()).rejects.toThrow(/cannot ack a message that is already retried/);
    await expect(message.retry()).rejects.toBeInstanceOf(MessageStateError);
  });

  it("refuses a message already settled, leaving it as it was", async () => {
    const { backend, message } = await fetched();
    await message.ack();
    await expect(message.retry()).rejects.toThrow(/cannot retry a message that is already acked/);
    expect(backend.published).toEqual([]);
  });

  it("rejects with the send's error when the copy cannot be sent; the message is requeued", async () => {
    const { backend, message } = await fetched();
    const refused = new PublishNackedError("refused");
    failPublish(backend, () => true, refused);
    await expect(message.retry()).rejects.toBe(refused);
    expect(message.state).toBe("requeued");
    expect(backend.log).toEqual(["requeue m"]);
  });

  it.each([
    [{ delay: -1 }, /delay must be a whole number of milliseconds from 0 to 2147483647, got -1/],
    [{ delay: 1.5 }, /delay .* got 1.5/],
    [{ delay: 2 ** 31 }, /delay .* got 2147483648/],
    [{ dealy: 5 } as never, /unknown option 'dealy' for retry\(\); did you mean 'delay'\?/],
  ])("refuses %j, leaving the message pending", async (options, error) => {
    const { message } = await fetched();
    await expect(message.retry(options)).rejects.toThrow(InvalidOptionsError);
    await expect(message.retry(options)).rejects.toThrow(error);
    expect(message.state).toBe("pending");
  });

  it("refuses a delay on a backend without delays, leaving the message pending", async () => {
    const backend = withDelivery({}, {}, policyCapabilities({ delayedDelivery: false }));
    const message = (await new Consumer(connect(backend), { queue: "q" }).fetch())!;
    await expect(message.retry({ delay: 10 })).rejects.toBeInstanceOf(UnsupportedFeatureError);
    expect(message.state).toBe("pending");
    await message.retry({ delay: 0 });
    expect(message.state).toBe("retried");
  });

  it("is refused for a noAck message", async () => {
    const backend = withDelivery();
    const message = (await new Consumer(connect(backend), { queue: "q", noAck: true }).fetch())!;
    await expect(message.retry()).rejects.toThrow(/cannot retry a message consumed with noAck/);
  });
});

describe("a callback that settled or could not", () => {
  it("a callback that settled, then threw, is reported with how it settled", async () => {
    const backend = withDelivery();
    const consumer = new Consumer(connect(backend), { queue: "q" });
    const texts: string[] = [];
    consumer.on("error", (error) => texts.push(error.message));
    consumer.registerCallback(async (_data, message) => {
      await message.retry({ delay: 0 });
      throw new Error("after the retry");
    });
    await consumer.wait({ limit: 1 });
    expect(texts).toEqual([
      "a callback on 'q' threw; the message was already retried by the callback",
    ]);
    expect(backend.log).toEqual(["publish /q", "ack m"]);
  });

  it("a callback's thenable that rejects is a throw, as `await` would have it", async () => {
    const backend = withDelivery();
    const consumer = new Consumer(connect(backend), { queue: "q" });
    const reports: CarrotError[] = [];
    consumer.on("error", (error) => reports.push(error));
    const thrown = new Error("later");
    consumer.registerCallback(() => ({
      // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a promise is the point
      then: (_resolve: unknown, reject: (error: unknown) => void) => reject(thrown),
    }));
    await consumer.wait({ limit: 1 });
    expect(reports.map((error) => [error.constructor, error.cause])).toEqual([
      [CallbackError, thrown],
    ]);
    expect(backend.log).toEqual(["publish /q", "ack m"]);
  });

  it("a noAck consumer's callback that throws: nothing to retry, and said so", async () => {
    const backend = withDelivery();
    const consumer = new Consumer(connect(backend), { queue: "q", noAck: true });
    const texts: string[] = [];
    consumer.on("error", (error) => texts.push(error.message));
    consumer.registerCallback(() => {
      throw new Error("boom");
    });
    await consumer.wait({ limit: 1 });
    expect(texts).toEqual([
      "a callback on 'q' threw; the message was not retried: it was consumed with noAck, so the broker forgot it as it sent it",
    ]);
    expect(backend.published).toEqual([]);
  });
});
