import { Consumer, MessageTooLargeError, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { connectSqs, deleteQueues, uniquePrefix } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

describe("messages on SQS", () => {
  it("round-trips content type, headers of every kind and all properties", async () => {
    const { conn } = await connectSqs(prefix);
    const consumer = new Consumer(conn, {
      queue: "props.q",
      exchange: "props",
      exchangeType: "headers",
      bindingArguments: { "x-match": "all", kind: "k" },
    });
    await consumer.declare();
    const publisher = new Publisher(conn, { exchange: "props", exchangeType: "headers" });
    const timestamp = new Date("2026-01-02T03:04:05.678Z");
    const headers = {
      kind: "k",
      emoji: "🥕 \uFFFF \u0001",
      n: 42.5,
      yes: true,
      none: null,
      when: new Date("2020-01-01T00:00:00Z"),
      bytes: new Uint8Array([0, 1, 255]),
      list: [1, "two", { three: 3 }],
      nested: { $d: "not a date", deep: { x: [true] } },
    };
    await publisher.send("héllo ✓ 🥕", {
      headers,
      messageId: "m-1",
      correlationId: "c-1",
      replyTo: "r",
      type: "t",
      appId: "app",
      userId: "u",
      timestamp,
      serializer: "text",
    });
    const message = await consumer.fetch();
    expect(message).not.toBeNull();
    if (!message) return;
    expect(message.payload).toBe("héllo ✓ 🥕");
    expect(message.contentType).toBe("text/plain");
    expect(message.contentEncoding).toBe("utf-8");
    expect(message.headers).toEqual(headers);
    expect(message.properties).toEqual({
      messageId: "m-1",
      correlationId: "c-1",
      replyTo: "r",
      type: "t",
      appId: "app",
      userId: "u",
      timestamp,
      deliveryMode: 2,
    });
    expect(message.deliveryInfo).toMatchObject({
      exchange: "props",
      routingKey: "",
      redelivered: false,
      queue: "props.q",
    });
    await message.ack();
    await conn.close();
  });

  it("round-trips bodies SQS cannot carry as text: every byte value, control characters, an empty body", async () => {
    const { conn } = await connectSqs(prefix);
    const consumer = new Consumer(conn, { queue: "bytes", accept: ["binary", "text"] });
    await consumer.declare();
    const publisher = new Publisher(conn, { routingKey: "bytes", serializer: "binary" });
    const everyByte = new Uint8Array(256).map((_, i) => i);
    const bodies = [
      everyByte,
      Buffer.from("nul\u0000 and \u0001", "utf8"),
      new Uint8Array(0),
      Buffer.from("\uFEFFbom", "utf8"),
    ];
    for (const body of bodies) await publisher.send(body);
    for (const body of bodies) {
      const message = await consumer.fetch();
      expect(message && Buffer.from(message.body)).toEqual(Buffer.from(body));
      await message?.ack();
    }
    await conn.close();
  });

  it("gives each message its own envelope when consecutive sends differ in one field", async () => {
    // One send per envelope field, all in one turn: each follows a message of
    // another shape, so an envelope reused for the wrong message shows here.
    const { conn } = await connectSqs(prefix);
    const a = new Consumer(conn, { queue: "shape-a", exchange: "shapes", routingKey: "a" });
    const b = new Consumer(conn, { queue: "shape-b", exchange: "shapes", routingKey: "b" });
    await a.declare();
    await b.declare();
    const publisher = new Publisher(conn, { exchange: "shapes", routingKey: "a" });
    await Promise.all([
      publisher.send({ n: 1 }),
      publisher.send({ n: 2 }, { routingKey: "b" }),
      publisher.send({ n: 3 }, { deliveryMode: "transient" }),
      publisher.send("four", { serializer: "text" }),
      publisher.send(new Uint8Array([0xff, 5]), { serializer: "binary" }), // not text: base64
      publisher.send({ n: 6 }, { messageId: "six" }),
      publisher.send({ n: 7 }, { headers: { seven: 7 } }),
      publisher.send({ n: 8 }),
    ]);
    const fetched = async (consumer: Consumer, count: number) => {
      const messages = [];
      for (let i = 0; i < count; i++) {
        const message = await consumer.fetch();
        expect(message, `message ${i + 1} of ${count} on ${consumer.queue}`).not.toBeNull();
        if (message) messages.push(message);
        await message?.ack();
      }
      expect(await consumer.fetch()).toBeNull();
      return messages;
    };
    const seen = (await fetched(a, 7)).map((m) => ({
      payload: m.payload instanceof Uint8Array ? [...m.payload] : m.payload,
      contentType: m.contentType,
      headers: m.headers,
      properties: m.properties,
      routingKey: m.deliveryInfo.routingKey,
    }));
    const persistent = { deliveryMode: 2 };
    const json = "application/json";
    const onA = (payload: unknown, contentType: string, more: object = {}) => ({
      payload,
      contentType,
      headers: {},
      properties: persistent,
      routingKey: "a",
      ...more,
    });
    expect(seen).toHaveLength(7);
    expect(seen).toEqual(
      expect.arrayContaining([
        onA({ n: 1 }, json),
        onA({ n: 3 }, json, { properties: { deliveryMode: 1 } }),
        onA("four", "text/plain"),
        onA([0xff, 5], "application/octet-stream"),
        onA({ n: 6 }, json, { properties: { ...persistent, messageId: "six" } }),
        onA({ n: 7 }, json, { headers: { seven: 7 } }),
        onA({ n: 8 }, json),
      ]),
    );
    const [onB] = await fetched(b, 1);
    expect(onB?.payload).toEqual({ n: 2 });
    expect(onB?.deliveryInfo.routingKey).toBe("b");
    expect(onB?.properties).toEqual(persistent);
    await conn.close();
  });

  it("takes a body of exactly maxMessageSize, refuses one byte more before sending, and counts headers", async () => {
    const { conn, backend } = await connectSqs(prefix);
    const max = backend.capabilities.maxMessageSize;
    const consumer = new Consumer(conn, { queue: "size", accept: ["binary"] });
    await consumer.declare();
    const publisher = new Publisher(conn, { routingKey: "size", serializer: "binary" });
    const largest = new Uint8Array(max).fill(0xff); // not text: carried as a binary attribute
    await publisher.send(largest);
    await expect(publisher.send(new Uint8Array(max + 1))).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    await expect(publisher.send(new Uint8Array(max).fill(97))).resolves.toBeUndefined(); // as text: same limit
    await expect(
      publisher.send(new Uint8Array(max - 10), { headers: { big: "x".repeat(100) } }),
    ).rejects.toBeInstanceOf(MessageTooLargeError);
    const first = await consumer.fetch();
    expect(first?.body.byteLength).toBe(max);
    expect(first && Buffer.from(first.body).equals(Buffer.from(largest))).toBe(true);
    await first?.ack();
    const second = await consumer.fetch();
    expect(second?.body.byteLength).toBe(max);
    await second?.ack();
    expect(await consumer.fetch()).toBeNull(); // nothing of the refused ones was sent
    await conn.close();
  });

  it("honours a larger queue limit up to 1 MiB", async () => {
    const { conn, backend } = await connectSqs(prefix, { maxMessageSize: 1024 * 1024 });
    const max = backend.capabilities.maxMessageSize;
    expect(max).toBeGreaterThan(((1024 * 1024 - 2048) / 4) * 3); // base64 worst case
    const consumer = new Consumer(conn, { queue: "size-1mib", accept: ["binary"] });
    await consumer.declare();
    const publisher = new Publisher(conn, { routingKey: "size-1mib", serializer: "binary" });
    await publisher.send(new Uint8Array(max).fill(7));
    await expect(publisher.send(new Uint8Array(max + 1))).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    const message = await consumer.fetch();
    expect(message?.body.byteLength).toBe(max);
    await message?.ack();
    await conn.close();
  });
});
