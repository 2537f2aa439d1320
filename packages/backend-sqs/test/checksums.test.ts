import { once } from "node:events";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Consumer,
  DecodeError,
  type Message,
  Publisher,
  PublishOutcomeUnknownError,
} from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import {
  connectSqs,
  countCommands,
  deleteQueues,
  sqsEndpoint,
  uniquePrefix,
  waitFor,
} from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

/** Rewrites the text of one SQS action's request or response bodies on their way. */
interface Tamper {
  action: string; // "SendMessageBatch", "ReceiveMessage", ...
  request?: (body: string) => string;
  response?: (body: string) => string;
}

/**
 * An HTTP proxy in front of the test SQS that changes bytes on the way, as a
 * faulty network or middlebox would. Replacements keep the length.
 */
async function tamperingProxy(tamper: Tamper): Promise<{ endpoint: string; close(): void }> {
  const target = new URL(sqsEndpoint());
  const server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const action = String(incoming.headers["x-amz-target"] ?? "")
      .split(".")
      .at(-1);
    const change = (body: Buffer, how?: (text: string) => string) =>
      action === tamper.action && how ? Buffer.from(how(body.toString("utf8"))) : body;
    const body = change(Buffer.concat(chunks), tamper.request);
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, "content-length": body.length },
      },
      async (answer) => {
        const parts: Buffer[] = [];
        for await (const chunk of answer) parts.push(chunk as Buffer);
        const answered = change(Buffer.concat(parts), tamper.response);
        outgoing.writeHead(answer.statusCode ?? 502, {
          ...answer.headers,
          "content-length": answered.length,
        });
        outgoing.end(answered);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    forwarded.end(body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => server.close(),
  };
}

describe("body checksums on SQS", () => {
  it("fails only the send whose body SQS stored changed, and reports the changed copy", async () => {
    const proxy = await tamperingProxy({
      action: "SendMessageBatch",
      request: (body) => body.replace('\\"tag\\":\\"three\\"', '\\"tag\\":\\"thrEe\\"'),
    });
    const { conn, backend } = await connectSqs(prefix, { endpoint: proxy.endpoint });
    const consumer = new Consumer<{ tag: string }>(conn, { queue: "sent" });
    await consumer.declare();
    const counts = countCommands(backend.sendClient);
    const publisher = new Publisher(conn, { routingKey: "sent" });
    const tags = ["zero", "one", "two", "three", "four", "five"];
    const outcomes = await Promise.allSettled(tags.map((tag) => publisher.send({ tag })));

    expect(counts.SendMessageBatchCommand).toBe(1); // one batch: the other five were in it
    expect(outcomes.map((o) => o.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    const failure = (outcomes[3] as PromiseRejectedResult).reason;
    expect(failure).toBeInstanceOf(PublishOutcomeUnknownError);
    expect(failure.message).toMatch(/another body than was sent/);
    // What the error says is on the queue: the changed copy, beside the five intact ones.
    const stored: string[] = [];
    for (let m = await consumer.fetch(); m; m = await consumer.fetch()) {
      stored.push(m.payload.tag);
      await m.ack();
    }
    expect(stored.sort()).toEqual(["five", "four", "one", "thrEe", "two", "zero"]);
    await conn.close();
    proxy.close();
  });

  it("never hands out a received body that changed on the way; SQS delivers it again at once", async () => {
    let tampered = 0;
    const proxy = await tamperingProxy({
      action: "ReceiveMessage",
      // Only the first answer that holds it: the next receive gets it intact.
      response: (body) => {
        if (tampered > 0 || !body.includes('\\"tag\\":\\"two\\"')) return body;
        tampered++;
        return body.replace('\\"tag\\":\\"two\\"', '\\"tag\\":\\"twO\\"');
      },
    });
    const sender = await connectSqs(prefix);
    const { conn } = await connectSqs(prefix, { endpoint: proxy.endpoint });
    const errors: Error[] = [];
    conn.on("error", ({ error }) => errors.push(error));
    const consumer = new Consumer<{ tag: string }>(conn, {
      queue: "received",
      prefetchCount: 10,
    });
    await consumer.declare();
    const publisher = new Publisher(sender.conn, { routingKey: "received" });
    await Promise.all(["one", "two", "three"].map((tag) => publisher.send({ tag })));

    const delivered: { tag: string; redelivered: boolean }[] = [];
    const all = waitFor<void>("three intact deliveries");
    consumer.registerCallback(async (data, message: Message<{ tag: string }>) => {
      delivered.push({ tag: data.tag, redelivered: message.deliveryInfo.redelivered });
      await message.ack();
      if (delivered.length === 3) all.resolve();
    });
    const waiting = consumer.wait();
    await all.promise;
    await consumer.cancel();
    await waiting;

    expect(tampered).toBe(1);
    // The intact ones went straight on; the changed one came back at once (not
    // after the visibility timeout), as SQS holds it.
    expect(delivered.sort((a, b) => a.tag.localeCompare(b.tag))).toEqual([
      { tag: "one", redelivered: false },
      { tag: "three", redelivered: false },
      { tag: "two", redelivered: true },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DecodeError);
    expect(errors[0]?.message).toMatch(/another body than SQS holds/);
    await conn.close();
    await sender.conn.close();
    proxy.close();
  });

  it("gives a changed body received after cancel back as it is on SQS, not as a copy of the change", async () => {
    const polling = waitFor<void>("a long poll in flight");
    const proxy = await tamperingProxy({
      action: "ReceiveMessage",
      request: (body) => {
        polling.resolve();
        return body;
      },
      response: (body) => body.replace('\\"tag\\":\\"late\\"', '\\"tag\\":\\"lAte\\"'),
    });
    const sender = await connectSqs(prefix);
    const { conn } = await connectSqs(prefix, { endpoint: proxy.endpoint, waitTimeSeconds: 5 });
    conn.on("error", () => undefined); // the changed body, reported
    const consumer = new Consumer<{ tag: string }>(conn, {
      queue: "handed-back",
      prefetchCount: 10,
    });
    await consumer.declare();
    let delivered = 0;
    consumer.registerCallback(() => {
      delivered++;
    });
    const waiting = consumer.wait();
    await polling.promise;
    // The poll in flight is not cut by cancel: it brings the message, changed, and hands it back.
    const cancelling = consumer.cancel();
    await new Publisher(sender.conn, { routingKey: "handed-back" }).send({ tag: "late" });
    await cancelling;
    await waiting;
    expect(delivered).toBe(0);

    const reader = new Consumer<{ tag: string }>(sender.conn, { queue: "handed-back" });
    // Hidden until the hand-back is done: read until it is there, for 15 s at most.
    const deadline = Date.now() + 15_000;
    let message = await reader.fetch();
    while (!message && Date.now() < deadline) message = await reader.fetch();
    if (!message) throw new Error("the message did not come back within 15 s");
    expect({ tag: message.payload.tag, redelivered: message.deliveryInfo.redelivered }).toEqual({
      tag: "late",
      redelivered: true,
    });
    await message.ack();
    await conn.close();
    await sender.conn.close();
    proxy.close();
  });
});
