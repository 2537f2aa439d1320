import { DecodeError } from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import { ENVELOPE_ATTRIBUTE, fromWire, toWire } from "../src/envelope.js";

const attribute = (text: string) => ({
  [ENVELOPE_ATTRIBUTE]: { DataType: "String", StringValue: text },
});

describe("the SQS envelope", () => {
  it("carries core's versioned envelope, with the body as text, base64 or empty", () => {
    const routed = { exchange: "ex", routingKey: "k" };
    const message = { contentType: "text/plain", headers: { a: 1 }, properties: {} };
    const bodies = [Buffer.from("héllo"), new Uint8Array([0xff, 0]), new Uint8Array(0)];
    const wires = bodies.map((body) => toWire({ ...message, body }, routed));
    expect(wires.map((w) => w.body)).toEqual(["héllo", "/wA=", "-"]);
    expect(wires[1]?.attributes[ENVELOPE_ATTRIBUTE]?.StringValue).toBe(
      '{"v":1,"x":"ex","k":"k","ct":"text/plain","h":{"a":1},"b":"base64"}',
    );
    for (const [i, wire] of wires.entries()) {
      const read = fromWire(wire.body, wire.attributes);
      expect(read).toEqual({
        message: { ...message, body: new Uint8Array(bodies[i]!) },
        ...routed,
      });
    }
  });

  it("reads a message sent before the envelope had a version ({ct,ce,h,p,x,k,b}), as sent", () => {
    // The very attribute the backend sent before: a message waiting on a queue across an upgrade.
    const old =
      '{"ct":"application/json","ce":"gzip","h":{"at":{"$d":"2026-01-02T03:04:05.000Z"}},"p":{"deliveryMode":2},"x":"orders","k":"created","b":"base64"}';
    expect(fromWire("AAE=", attribute(old))).toEqual({
      message: {
        body: new Uint8Array([0, 1]),
        contentType: "application/json",
        contentEncoding: "gzip",
        headers: { at: new Date("2026-01-02T03:04:05.000Z") },
        properties: { deliveryMode: 2 },
      },
      exchange: "orders",
      routingKey: "created",
    });
    expect(fromWire("-", attribute('{"b":"empty"}')).message.body).toEqual(new Uint8Array(0));
    expect(fromWire("text", attribute("{}")).message.body).toEqual(
      new Uint8Array(Buffer.from("text")),
    );
  });

  it("makes a message whose attribute cannot be read unreadable, with its SQS body", () => {
    const { message, exchange, routingKey } = fromWire("raw", attribute('{"b":"weird"}'));
    expect(message.unreadable).toBeInstanceOf(DecodeError);
    expect(Buffer.from(message.body).toString()).toBe("raw");
    expect({ exchange, routingKey }).toEqual({ exchange: "", routingKey: "" });
  });
});
