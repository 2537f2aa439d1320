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
