import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Headers } from "../src/contract.js";
import {
  envelopeString,
  headersFromJson,
  headersToJson,
  propertiesFromJson,
  propertiesToJson,
} from "../src/envelope-json.js";
import { DecodeError } from "../src/errors.js";

/** Through JSON text and back, as a backend's envelope travels. */
function throughJson(headers: Headers): Headers {
  return headersFromJson(JSON.parse(JSON.stringify(headersToJson(headers))));
}

describe("envelope JSON", () => {
  it("round-trips every header value, tags and look-alikes of tags included", () => {
    const headers: Headers = {
      text: "t",
      n: 1.5,
      nothing: null,
      yes: true,
      when: new Date("2026-12-01T10:11:12.345Z"),
      bytes: new Uint8Array([0, 1, 255]),
      notANumber: Number.NaN,
      infinite: Number.POSITIVE_INFINITY,
      belowAll: Number.NEGATIVE_INFINITY,
      list: [1, new Date(0), [new Uint8Array([7])], { inner: Number.NaN }],
      tagLike: { $d: "not a date", $b: "not bytes", $n: "NaN", $o: { $date: 5 } },
      empty: {},
    };
    expect(throughJson(headers)).toEqual(headers);
  });

  it("writes records of plain values as they are, and reads them into objects without a prototype", () => {
    const plain: Headers = { tenant: "a", n: 2, yes: false, nothing: null };
    expect(headersToJson(plain)).toBe(plain);
    const read = headersFromJson(JSON.parse(JSON.stringify(plain)));
    expect(read).toEqual(plain);
    expect(Object.getPrototypeOf(read)).toBeNull();
  });

  it("carries the timestamp property as milliseconds", () => {
    const timestamp = new Date("2026-12-01T10:11:12.345Z");
    const json = propertiesToJson({ messageId: "m", timestamp, deliveryMode: 2 });
    expect(json).toEqual({ messageId: "m", timestamp: timestamp.getTime(), deliveryMode: 2 });
    expect(propertiesFromJson(JSON.parse(JSON.stringify(json)))).toEqual({
      messageId: "m",
      timestamp,
      deliveryMode: 2,
    });
  });

  it("reads __proto__ and constructor as keys like any other, at every depth", () => {
    const text =
      '{"__proto__":{"$o":{"compression":"application/x-gzip"}},"constructor":"c","deep":{"$o":{"__proto__":{"polluted":true}}},"list":[{"__proto__":{"x":1}}]}';
    const headers = headersFromJson(JSON.parse(text));
    expect(Object.keys(headers)).toEqual(["__proto__", "constructor", "deep", "list"]);
    expect(Object.getPrototypeOf(headers)).toBeNull();
    expect(headers.compression).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(headers, "__proto__")?.value).toEqual({
      compression: "application/x-gzip",
    });
    const deep = headers.deep as Headers;
    expect(Object.getPrototypeOf(deep)).toBeNull();
    expect(Object.keys(deep)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys((headers.list as Headers[])[0]!)).toEqual(["__proto__"]);
  });

  it.each([
    [
      "a date tag holding garbage",
      { when: { $d: "garbage" } },
      /header 'when' cannot be read: tagged as a date/,
    ],
    ["a date tag holding a number", { when: { $d: 5 } }, /tagged as a date/],
    ["a bytes tag holding no base64", { b: { $b: "@@@" } }, /tagged as bytes/],
    ["a number tag holding a word", { n: { $n: "seven" } }, /tagged as a number/],
    ["an object tag holding null", { o: { $o: null } }, /tagged as an object/],
    ["an object tag holding an array", { o: { $o: [1] } }, /tagged as an object/],
    [
      "a bad tag deep inside",
      { a: [{ $o: { b: { $d: "x" } } }] },
      /header 'a\[0\]\.b' cannot be read/,
    ],
  ])("%s is a DecodeError naming the header", (_, json, message) => {
    expect(() => headersFromJson(json)).toThrow(DecodeError);
    expect(() => headersFromJson(json)).toThrow(message);
  });

  it.each([null, 5, "text", [1], true])("headers that are %j are a DecodeError", (json) => {
    expect(() => headersFromJson(json)).toThrow(DecodeError);
  });

  it("headers nested deeper than the limit are a DecodeError, not a stack overflow", () => {
    const deep = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expect(() => headersFromJson({ deep })).toThrow(/nested deeper than 32 levels/);
  });

  it("an object that is no tag (a foreign writer's) is read as an object", () => {
    expect(headersFromJson({ a: { b: 1, $d: "x" } })).toEqual({ a: { b: 1, $d: "x" } });
  });

  it.each([
    [null, /the properties are null/],
    [{ messageId: 5 }, /messageId is number 5; it must be a string/],
    [{ priority: 300 }, /priority/],
    [{ priority: "high" }, /priority/],
    [{ expiration: -1 }, /expiration/],
    [{ timestamp: "yesterday" }, /timestamp/],
    [{ timestamp: 1e20 }, /timestamp/],
    [{ deliveryMode: 3 }, /deliveryMode/],
  ])("properties %j are a DecodeError naming the property", (json, message) => {
    expect(() => propertiesFromJson(json)).toThrow(DecodeError);
    expect(() => propertiesFromJson(json)).toThrow(message);
  });

  it("properties keep only the known fields", () => {
    const read = propertiesFromJson(JSON.parse('{"messageId":"m","__proto__":{"x":1},"future":1}'));
    expect(read).toEqual({ messageId: "m" });
  });

  it("an envelope field that is no string is a DecodeError naming the field", () => {
    expect(envelopeString(undefined, "content type")).toBeUndefined();
    expect(envelopeString("a", "content type")).toBe("a");
    expect(() => envelopeString(7, "content type")).toThrow(
      /the envelope's content type is number 7/,
    );
  });

  it("any JSON at all reads as headers and properties or as a DecodeError, nothing else", () => {
    // Seeded: a failure names the seed and the value, and replays the same.
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (json) => {
        for (const read of [headersFromJson, propertiesFromJson]) {
          try {
            read(json);
          } catch (error) {
            if (!(error instanceof DecodeError)) throw error;
          }
        }
      }),
      { seed: 13, numRuns: 2_000 },
    );
  });

  it("every header value carrot writes reads back the same (generated)", () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: true }),
      fc.uint8Array({ maxLength: 8 }),
    );
    const value = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.array(tie("value"), { maxLength: 3 }),
        fc.dictionary(fc.string(), tie("value"), { maxKeys: 3 }),
      ),
    })).value;
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value, { maxKeys: 4 }), (headers) => {
        expect(throughJson(headers as Headers)).toEqual(headers);
      }),
      { seed: 13, numRuns: 500 },
    );
  });
});
