import { DecodeError } from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import { decodeEntry, encodeEnvelope } from "../src/message-codec.js";

describe("entries read back", () => {
  it("do not share headers or properties, though their envelopes are parsed once", () => {
    const envelope = encodeEnvelope("ex", "key", {
      body: new Uint8Array(0),
      contentType: "application/json",
      headers: { tenant: "a" },
      properties: { deliveryMode: 2 },
    });
    const fields = () => [
      Buffer.from("b"),
      Buffer.from("{}"),
      Buffer.from("m"),
      Buffer.from(envelope),
    ];
    const first = decodeEntry("1-0", fields());
    first.message.headers.tenant = "changed";
    first.message.properties.priority = 9;
    const second = decodeEntry("2-0", fields());
    expect(second.message.headers).toEqual({ tenant: "a" });
    expect(second.message.properties).toEqual({ deliveryMode: 2 });
    expect([second.exchange, second.routingKey, second.message.contentType]).toEqual([
      "ex",
      "key",
      "application/json",
    ]);
  });

  it("writes core's versioned envelope", () => {
    const envelope = encodeEnvelope("ex", "key", {
      body: new Uint8Array(0),
      contentType: "text/plain",
      headers: {},
      properties: { deliveryMode: 1 },
    });
    expect(envelope).toBe('{"v":1,"x":"ex","k":"key","ct":"text/plain","p":{"deliveryMode":1}}');
  });

  it("reads an entry stored before the envelope had a version ({e,k,c,n,h,p}), as stored", () => {
    // The very fields the backend wrote before: an entry waiting in a stream across an upgrade.
    const read = entry(
      '{"e":"orders","k":"created","c":"application/json","n":"gzip","h":{"tenant":"a","at":{"$d":"2026-01-02T03:04:05.000Z"}},"p":{"deliveryMode":2,"priority":4}}',
    );
    expect(read.message.unreadable).toBeUndefined();
    expect([read.exchange, read.routingKey]).toEqual(["orders", "created"]);
    expect(read.message).toEqual({
      body: Buffer.from("body"),
      contentType: "application/json",
      contentEncoding: "gzip",
      headers: { tenant: "a", at: new Date("2026-01-02T03:04:05.000Z") },
      properties: { deliveryMode: 2, priority: 4 },
    });
    const empty = entry('{"e":"","k":"q","h":{},"p":{}}');
    expect([empty.exchange, empty.routingKey, empty.message.headers]).toEqual(["", "q", {}]);
  });

  const entry = (envelope?: string) =>
    decodeEntry("1-0", [
      Buffer.from("b"),
      Buffer.from("body"),
      ...(envelope === undefined ? [] : [Buffer.from("m"), Buffer.from(envelope)]),
    ]);

  it.each([
    ["null", /not a JSON object/],
    ["{{{", /not JSON/],
    ["[]", /not a JSON object/],
    ['{"c":5}', /content type is number 5/],
    ['{"h":{"when":{"$d":"garbage"}}}', /header 'when' cannot be read: tagged as a date/],
    ['{"h":null}', /the headers are null/],
    ['{"p":{"timestamp":"x"}}', /timestamp/],
  ])(
    "an envelope %s makes the entry unreadable, with its body, never an exception",
    (text, why) => {
      const read = entry(text);
      expect(read.message.unreadable).toBeInstanceOf(DecodeError);
      expect(read.message.unreadable?.message).toMatch(why);
      expect(Buffer.from(read.message.body).toString()).toBe("body");
      expect(read.message.headers).toEqual({});
    },
  );

  it("an entry without an envelope (another client's XADD) is its body alone", () => {
    const read = entry();
    expect(read.message.unreadable).toBeUndefined();
    expect(read.message.contentType).toBeUndefined();
    expect(Buffer.from(read.message.body).toString()).toBe("body");
  });

  it("headers are read without a prototype, __proto__ a key like any other", () => {
    const read = entry('{"h":{"__proto__":{"$o":{"compression":"gzip"}},"a":1}}');
    expect(Object.getPrototypeOf(read.message.headers)).toBeNull();
    expect(read.message.headers.compression).toBeUndefined();
    expect(Object.keys(read.message.headers)).toEqual(["__proto__", "a"]);
    const flat = entry('{"h":{"__proto__":"x","a":1}}'); // a flat envelope, cached
    expect(Object.keys(flat.message.headers)).toEqual(["__proto__", "a"]);
    expect(
      Object.getPrototypeOf(entry('{"h":{"__proto__":"x","a":1}}').message.headers),
    ).toBeNull();
  });
});
