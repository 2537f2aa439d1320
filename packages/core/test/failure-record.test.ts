import { describe, expect, it } from "vitest";
import type { Headers } from "../src/contract.js";
import {
  FAILURE_HEADERS,
  MAX_ERROR_MESSAGE,
  readFailureRecord,
  withFailure,
} from "../src/failure-record.js";

// The failure record: written by withFailure, read back by readFailureRecord,
// whatever was thrown and whatever another client left in the headers.

const H = FAILURE_HEADERS;
const first = new Date("2026-01-01T00:00:00Z");
const later = new Date("2026-01-01T00:00:05Z");
const headers = (values: Headers = {}): Headers =>
  Object.assign(Object.create(null) as Headers, values);

function recorded(error: unknown, extra: Headers = {}): Headers {
  return withFailure(headers(extra), {
    attempts: 1,
    error,
    exchange: "x",
    routingKey: "k",
    now: first,
  });
}

describe("the failure record", () => {
  it("holds the attempts, the error, both failure times and the first destination", () => {
    const written = recorded(new TypeError("no such field"), { app: "kept" });
    expect({ ...written }).toEqual({
      app: "kept",
      [H.attempts]: 1,
      [H.errorName]: "TypeError",
      [H.errorMessage]: "no such field",
      [H.firstFailure]: first,
      [H.lastFailure]: first,
      [H.originalExchange]: "x",
      [H.originalRoutingKey]: "k",
    });
    expect(readFailureRecord(written)).toEqual({
      attempts: 1,
      errorName: "TypeError",
      errorMessage: "no such field",
      firstFailure: first,
      lastFailure: first,
      originalExchange: "x",
      originalRoutingKey: "k",
    });
  });

  it("a later failure keeps the first failure time and destination, and replaces the rest", () => {
    const again = withFailure(recorded(new Error("first")), {
      attempts: 2,
      exchange: "",
      routingKey: "q",
      now: later,
    });
    expect(readFailureRecord(again)).toEqual({
      attempts: 2,
      firstFailure: first,
      lastFailure: later,
      originalExchange: "x",
      originalRoutingKey: "k",
    });
  });

  it("does not change the headers it was given", () => {
    const given = headers({ app: "kept" });
    recorded(new Error("boom"), given);
    expect({ ...given }).toEqual({ app: "kept" });
  });

  it.each([
    ["a string", "plain text", "string", "plain text"],
    ["undefined", undefined, "undefined", "undefined"],
    ["null", null, "object", "null"],
    ["a number", 42, "number", "42"],
    ["a Symbol", Symbol("why"), "symbol", "Symbol(why)"],
    ["a plain object with a message", { message: "as text" }, "object", "as text"],
    [
      "an object whose getters throw",
      {
        get name(): string {
          throw new Error("no name");
        },
        get message(): string {
          throw new Error("no message");
        },
      },
      "object",
      "[object Object]",
    ],
    [
      "an Error whose message getter throws",
      Object.defineProperty(new RangeError("hidden"), "message", {
        get() {
          throw new Error("no");
        },
      }),
      "RangeError",
      "(the thrown object could not be read)",
    ],
    [
      "a revoked Proxy",
      (() => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      })(),
      "object",
      "(the thrown object could not be read)",
    ],
  ])("records %s as it can, never throwing", (_kind, thrown, name, message) => {
    const record = readFailureRecord(recorded(thrown));
    expect([record?.errorName, record?.errorMessage]).toEqual([name, message]);
  });

  it("records no error for a retry asked for without one", () => {
    const written = withFailure(headers(), {
      attempts: 1,
      exchange: "",
      routingKey: "q",
      now: first,
    });
    expect(H.errorName in written).toBe(false);
    expect(H.errorMessage in written).toBe(false);
  });

  it("cuts a long message, and never leaves half a character", () => {
    const long = `${"a".repeat(MAX_ERROR_MESSAGE - 1)}😀 and more`;
    const message = readFailureRecord(recorded(new Error(long)))?.errorMessage;
    expect(message).toHaveLength(MAX_ERROR_MESSAGE);
    expect(message?.endsWith("a\uFFFD")).toBe(true);
    expect(message).not.toMatch(/\p{Surrogate}/u);
  });

  it("replaces what a header of some broker cannot carry (controls, lone surrogates)", () => {
    const record = readFailureRecord(recorded(new Error("a\u0000b\u001bc\td\ne\ud800f\uFFFFg")));
    expect(record?.errorMessage).toBe("a\uFFFDb\uFFFDc\td\ne\uFFFDf\uFFFDg");
  });

  it.each<[string, Headers]>([
    ["no attempts", { [H.firstFailure]: first, [H.lastFailure]: first }],
    ["attempts as text", { [H.attempts]: "3", [H.firstFailure]: first, [H.lastFailure]: first }],
    ["negative attempts", { [H.attempts]: -1, [H.firstFailure]: first, [H.lastFailure]: first }],
    ["fractional attempts", { [H.attempts]: 1.5, [H.firstFailure]: first, [H.lastFailure]: first }],
    ["no first failure", { [H.attempts]: 1, [H.lastFailure]: first }],
    [
      "an invalid date",
      { [H.attempts]: 1, [H.firstFailure]: new Date(Number.NaN), [H.lastFailure]: first },
    ],
    ["a date as text", { [H.attempts]: 1, [H.firstFailure]: "2026-01-01", [H.lastFailure]: first }],
  ])("reads a record with %s as no record", (_case, values) => {
    expect(readFailureRecord(headers(values))).toBeUndefined();
  });

  it("ignores optional fields of the wrong type", () => {
    const record = readFailureRecord(
      headers({
        [H.attempts]: 2,
        [H.firstFailure]: first,
        [H.lastFailure]: later,
        [H.errorName]: 7,
        [H.originalExchange]: null,
      }),
    );
    expect(record).toEqual({ attempts: 2, firstFailure: first, lastFailure: later });
  });
});
