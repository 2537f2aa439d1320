import { describe, expect, it } from "vitest";
import { headersMatch } from "../src/routing/headers-matcher.js";

describe("headersMatch", () => {
  const message = { format: "pdf", type: "report", pages: 3 };

  it("x-match all needs every argument to match, and is the default", () => {
    expect(headersMatch({ "x-match": "all", format: "pdf", type: "report" }, message)).toBe(true);
    expect(headersMatch({ format: "pdf", type: "log" }, message)).toBe(false);
    expect(headersMatch({ format: "pdf", pages: 3 }, message)).toBe(true);
    expect(headersMatch({ pages: "3" }, message)).toBe(false);
  });

  it("x-match any needs one argument to match", () => {
    expect(headersMatch({ "x-match": "any", format: "zip", type: "report" }, message)).toBe(true);
    expect(headersMatch({ "x-match": "any", format: "zip", type: "log" }, message)).toBe(false);
  });

  it("over no arguments, all matches everything and any matches nothing", () => {
    expect(headersMatch({}, message)).toBe(true);
    expect(headersMatch({ "x-match": "any" }, message)).toBe(false);
  });

  it("ignores x- arguments unless the mode is *-with-x", () => {
    expect(headersMatch({ "x-tenant": "a", format: "pdf" }, message)).toBe(true);
    expect(headersMatch({ "x-match": "all-with-x", "x-tenant": "a", format: "pdf" }, message)).toBe(
      false,
    );
    expect(headersMatch({ "x-match": "all-with-x", "x-tenant": "a" }, { "x-tenant": "a" })).toBe(
      true,
    );
  });

  it("an argument without a value matches the header's presence", () => {
    expect(headersMatch({ format: null }, message)).toBe(true);
    expect(headersMatch({ missing: null }, message)).toBe(false);
  });

  it("compares dates, bytes, arrays and tables by value", () => {
    const when = new Date(1_700_000_000_000);
    expect(headersMatch({ when: new Date(when.getTime()) }, { when })).toBe(true);
    expect(headersMatch({ raw: new Uint8Array([1, 2]) }, { raw: Buffer.from([1, 2]) })).toBe(true);
    expect(headersMatch({ tags: ["a", "b"] }, { tags: ["a", "b"] })).toBe(true);
    expect(headersMatch({ tags: ["a", "b"] }, { tags: ["b", "a"] })).toBe(false);
    expect(headersMatch({ t: { k: 1 } }, { t: { k: 1 } })).toBe(true);
  });
});
