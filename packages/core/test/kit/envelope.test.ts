import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DecodeError } from "../../src/errors.js";
import {
  type Envelope,
  EnvelopeReader,
  EnvelopeWriter,
  encodeEnvelope,
  type UnversionedNames,
} from "../../src/kit/envelope.js";

const REDIS_NAMES: UnversionedNames = { exchange: "e", contentType: "c", contentEncoding: "n" };

const plain = {
  contentType: "application/json",
  headers: {},
  properties: { deliveryMode: 2 as const },
};

describe("the envelope format", () => {
  it("writes version 1 with the empty fields left out", () => {
    expect(encodeEnvelope("", "q", plain)).toBe(
      '{"v":1,"k":"q","ct":"application/json","p":{"deliveryMode":2}}',
    );
    expect(encodeEnvelope("", "", { headers: {}, properties: {} }, "empty")).toBe(
      '{"v":1,"b":"empty"}',
    );
  });

  it("reads back what it writes: every field, dates and bytes in headers and properties", () => {
    const message = {
      contentType: "text/plain",
      contentEncoding: "gzip",
      headers: { when: new Date(5), bytes: new Uint8Array([1, 2]), n: Number.NaN, list: [1, "a"] },
      properties: {
        messageId: "m1",
        timestamp: new Date(7),
        priority: 3,
        deliveryMode: 1 as const,
      },
    };
    const read = new EnvelopeReader().read(encodeEnvelope("ex", "key", message, "base64"));
    expect(read).toEqual({ exchange: "ex", routingKey: "key", bodyForm: "base64", ...message });
  });
});

describe("envelopes written before the format had a version", () => {
  // Literal envelopes as the Redis and SQS backends wrote them, before
  // version 1: messages stored then must still be read after an upgrade.
  it("a Redis one {e,k,c,n,h,p} is read under the Redis names", () => {
    const old =
      '{"e":"orders","k":"created","c":"application/json","n":"gzip","h":{"tenant":"a","at":{"$d":"2026-01-02T03:04:05.000Z"}},"p":{"deliveryMode":2,"timestamp":1700000000000}}';
    expect(new EnvelopeReader(REDIS_NAMES).read(old)).toEqual({
      exchange: "orders",
      routingKey: "created",
      contentType: "application/json",
      contentEncoding: "gzip",
      headers: { tenant: "a", at: new Date("2026-01-02T03:04:05.000Z") },
      properties: { deliveryMode: 2, timestamp: new Date(1700000000000) },
    });
    // The old Redis writer always wrote "h" and "p", empty or not.
    expect(new EnvelopeReader(REDIS_NAMES).read('{"e":"","k":"q","h":{},"p":{}}')).toMatchObject({
      exchange: "",
      routingKey: "q",
      headers: {},
      properties: {},
    });
  });

  it("an SQS one {ct,ce,h,p,x,k,b} is read under the default names", () => {
    const old =
      '{"ct":"application/octet-stream","ce":"br","h":{"b":{"$b":"AAE="}},"p":{"messageId":"m"},"x":"ex","k":"rk","b":"base64"}';
    expect(new EnvelopeReader().read(old)).toEqual({
      exchange: "ex",
      routingKey: "rk",
      contentType: "application/octet-stream",
      contentEncoding: "br",
      headers: { b: new Uint8Array([0, 1]) },
      properties: { messageId: "m" },
      bodyForm: "base64",
    });
    expect(new EnvelopeReader().read('{"b":"empty"}')).toMatchObject({ bodyForm: "empty" });
  });

  it("a version 1 envelope is read the same by either reader", () => {
    const text = encodeEnvelope("ex", "k", plain);
    expect(new EnvelopeReader(REDIS_NAMES).read(text)).toEqual(new EnvelopeReader().read(text));
  });

  it("the other backend's names are not read as the unversioned ones", () => {
    const read = new EnvelopeReader(REDIS_NAMES).read('{"ct":"text/plain","x":"ex"}') as Envelope;
    expect([read.contentType, read.exchange]).toEqual([undefined, ""]);
  });
});

describe("an envelope that cannot be read gives a DecodeError, never an exception", () => {
  it.each([
    ["{{{", /not JSON/],
    ["null", /not a JSON object/],
    ["[]", /not a JSON object/],
    ['{"v":2}', /format 2, newer than this carrot reads \(1\)/],
    ['{"v":"1"}', /format version is not one carrot wrote/],
    ['{"v":0}', /format version is not one carrot wrote/],
    ['{"v":1,"ct":5}', /content type is number 5/],
    ['{"v":1,"x":{}}', /exchange is an object/],
    ['{"v":1,"k":1}', /routing key is number 1/],
    ['{"v":1,"b":"weird"}', /no known body form/],
    ['{"h":null}', /the headers are null/],
    ['{"p":{"timestamp":"x"}}', /timestamp/],
    ['{"h":{"x":{"$d":"garbage"}}}', /header 'x' cannot be read: tagged as a date/],
  ])("%s", (text, why) => {
    const read = new EnvelopeReader().read(text);
    expect(read).toBeInstanceOf(DecodeError);
    expect((read as DecodeError).message).toMatch(why);
  });

  it("whatever the text", () => {
    const reader = new EnvelopeReader(REDIS_NAMES);
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        const read = reader.read(text);
        expect(read instanceof DecodeError || typeof read.exchange === "string").toBe(true);
      }),
    );
  });
});

describe("envelopes read once, copies given out", () => {
  it("each read of a cached envelope has its own headers and properties, without a prototype", () => {
    const reader = new EnvelopeReader();
    const text = encodeEnvelope("ex", "k", {
      headers: { tenant: "a" },
      properties: { priority: 1 },
    });
    const first = reader.read(text) as Envelope;
    first.headers.tenant = "changed";
    first.properties.priority = 9;
    const second = reader.read(text) as Envelope;
    expect(second.headers).toEqual({ tenant: "a" });
    expect(second.properties).toEqual({ priority: 1 });
    expect(Object.getPrototypeOf(second.headers)).toBeNull();
    expect(second.headers).not.toBe(first.headers);
  });

  it("nested headers are read anew each time, not shared through the cache", () => {
    const reader = new EnvelopeReader();
    const text = encodeEnvelope("", "k", { headers: { list: [1] }, properties: {} });
    (reader.read(text) as Envelope).headers.list = [2];
    expect((reader.read(text) as Envelope).headers).toEqual({ list: [1] });
  });
});

describe("the envelope writer", () => {
  it("makes one envelope for consecutive messages of the same shape, and a new one for each change", () => {
    const made: string[] = [];
    const writer = new EnvelopeWriter((text) => {
      made.push(text);
      return { text };
    });
    const first = writer.write("ex", "k", plain);
    expect(writer.write("ex", "k", plain)).toBe(first);
    const shapes = [
      () => writer.write("ex2", "k", plain),
      () => writer.write("ex2", "k2", plain),
      () => writer.write("ex2", "k2", { ...plain, contentType: "text/plain" }),
      () => writer.write("ex2", "k2", { ...plain, contentEncoding: "gzip" }),
      () => writer.write("ex2", "k2", { ...plain, properties: { deliveryMode: 1 } }),
      () => writer.write("ex2", "k2", { ...plain, properties: { deliveryMode: 1 } }, "base64"),
    ];
    for (const write of shapes) write();
    expect(made).toHaveLength(1 + shapes.length);
    expect(new Set(made).size).toBe(made.length);
  });

  it("makes its own envelope for a message with headers or other properties", () => {
    let count = 0;
    const writer = new EnvelopeWriter((text) => {
      count++;
      return text;
    });
    const withHeader = { ...plain, headers: { a: 1 } };
    const withId = { ...plain, properties: { deliveryMode: 2 as const, messageId: "m" } };
    writer.write("", "k", withHeader);
    writer.write("", "k", withHeader);
    writer.write("", "k", withId);
    expect(count).toBe(3);
    expect(new EnvelopeReader().read(writer.write("", "k", withId))).toMatchObject({
      properties: { messageId: "m", deliveryMode: 2 },
    });
  });
});
