import { forward, type Message, type SendOptions } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { PAIRS, urlOf } from "./support/brokers.js";
import { drain, PROTOBUF, ROUTING_KEY, receive, Scene } from "./support/scene.js";

// Between every two backends: a gzip-compressed json body, bytes of a
// content type carrot has no codec for, and a msgpack body arrive as they
// left, byte for byte, with their content type, encoding, headers and
// properties; the source queue ends empty, each message acked once.

// Whole seconds: AMQP carries a timestamp in seconds, so RabbitMQ keeps no more.
const timestamp = new Date("2026-03-04T05:06:07.000Z");
const protobuf = Uint8Array.from([0x08, 0x96, 0x01, 0x12, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00]);
const order = { order: 1, lines: [{ sku: "carrot", quantity: 12 }], note: "é".repeat(300) };
const measured = { at: new Date("2026-01-02T03:04:05.006Z"), big: 2n ** 62n, raw: protobuf };

describe.each(PAIRS)("forward() from %s to %s", (from, to) => {
  const scene = new Scene();
  afterEach(() => scene.cleanUp());

  it("carries each body as it is, acks each source message once, leaves the source empty", async () => {
    const source = await scene.endpoint(from, "src");
    const target = await scene.endpoint(to, "dst");
    const both = (feature: "priority" | "messageTtl") =>
      source.connection.capabilities[feature] && target.connection.capabilities[feature];
    const common: SendOptions = {
      routingKey: ROUTING_KEY,
      correlationId: "corr-1",
      replyTo: "replies",
      timestamp,
      type: "order.created",
      appId: "shop",
      // RabbitMQ takes only the publishing connection's user; no destination may get it.
      userId: decodeURIComponent(new URL(urlOf("rabbitmq")).username) || "guest",
      headers: { tenant: "north", attempt: 1, tags: ["a", "b"] },
      ...(both("priority") ? { priority: 3 } : {}),
      ...(both("messageTtl") ? { expiration: 600_000 } : {}),
    };
    const sender = source.publisher(source.connection);
    await sender.send(order, { ...common, messageId: "gzip", compression: "gzip" });
    await sender.send(protobuf, { ...common, messageId: "protobuf", contentType: PROTOBUF });
    await sender.send(measured, { ...common, messageId: "msgpack", serializer: "msgpack" });

    const consumer = source.consumer(source.connection);
    const forwarded: Message[] = [];
    const bridge = forward(consumer, target.publisher(target.connection), {
      transform: (message) => void forwarded.push(message),
    });
    const got = await receive(target.consumer(target.connection), 3, `from ${from} on ${to}`);
    await bridge.close();

    const byId = (messages: Message[]) =>
      Object.fromEntries(messages.map((m) => [m.properties.messageId, m]));
    const sent = byId(forwarded);
    const arrived = byId(got);
    expect(Object.keys(arrived).sort()).toEqual(["gzip", "msgpack", "protobuf"]);
    expect(forwarded.map((m) => m.state)).toEqual(["acked", "acked", "acked"]);
    for (const id of ["gzip", "protobuf", "msgpack"]) {
      const [before, after] = [sent[id]!, arrived[id]!];
      expect(Buffer.from(after.body).equals(Buffer.from(before.body)), `${id}: the body`).toBe(
        true,
      );
      expect([after.contentType, after.contentEncoding]).toEqual([
        before.contentType,
        before.contentEncoding,
      ]);
      expect({ ...after.headers }, `${id}: the headers`).toEqual({ ...before.headers });
      const { userId, ...kept } = before.properties;
      expect(userId, `${id}: the source carried userId`).toBe(common.userId);
      expect(after.properties, `${id}: the properties`).toEqual(kept);
    }
    // Decoded at the end: the gzip body by the compression header that came with it.
    expect(sent.gzip!.headers.compression).toBe("application/x-gzip");
    expect(arrived.gzip!.payload).toEqual(order);
    expect(Buffer.from(arrived.protobuf!.payload as Uint8Array).equals(protobuf)).toBe(true);
    // Bytes come back as a Buffer or a plain Uint8Array, as the backend's body is: compared as bytes.
    const unpacked = arrived.msgpack!.payload as typeof measured;
    expect({ ...unpacked, raw: Buffer.from(unpacked.raw) }).toEqual({
      ...measured,
      raw: Buffer.from(protobuf),
    });
    expect(await drain(source.consumer(source.connection)), "left in the source").toEqual([]);
    expect(await drain(target.consumer(target.connection)), "more at the target").toEqual([]);
  });
});
