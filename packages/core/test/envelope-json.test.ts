import { describe, expect, it } from "vitest";
import type { Headers } from "../src/contract.js";
import {
  headersFromJson,
  headersToJson,
  propertiesFromJson,
  propertiesToJson,
} from "../src/envelope-json.js";

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

  it("passes records of plain values through as they are, without a copy", () => {
    const plain: Headers = { tenant: "a", n: 2, yes: false, nothing: null };
    expect(headersToJson(plain)).toBe(plain);
    const json = JSON.parse(JSON.stringify(plain));
    expect(headersFromJson(json)).toBe(json);
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
});
