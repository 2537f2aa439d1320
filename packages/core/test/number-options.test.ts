import { describe, expect, it } from "vitest";
import { InvalidOptionsError } from "../src/errors.js";
import { checkNumber, MAX_TIMER_MS, numberFromText } from "../src/number-options.js";

const MS = { min: 1, max: MAX_TIMER_MS, unit: "milliseconds" } as const;

describe("number options", () => {
  it("pass values in range, and undefined (not given)", () => {
    expect(checkNumber("t", 1, MS)).toBe(1);
    expect(checkNumber("t", MAX_TIMER_MS, MS)).toBe(MAX_TIMER_MS);
    expect(checkNumber("t", undefined, MS)).toBeUndefined();
    expect(checkNumber("f", 1.5, { min: 1, fractional: true })).toBe(1.5);
    expect(checkNumber("n", Number.POSITIVE_INFINITY, { min: 1, infinity: "forever" })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it.each([
    [Number.NaN, "got NaN"],
    [Number.POSITIVE_INFINITY, "got Infinity"],
    [-1, "got -1"],
    [0, "got 0"],
    [1.5, "got 1.5"],
    [MAX_TIMER_MS + 1, "got 2147483648"],
    ["100", 'got "100" (a string)'],
    [null, "got null"],
  ])("refuse %s, naming the option, the range and the value", (value, got) => {
    const attempt = () => checkNumber("connectTimeout", value as number, MS);
    expect(attempt).toThrow(InvalidOptionsError);
    expect(attempt).toThrow(
      `connectTimeout must be a whole number of milliseconds from 1 to 2147483647, ${got}`,
    );
  });

  it("say what Infinity means where it is allowed, and refuse -Infinity", () => {
    expect(() =>
      checkNumber("maxAttempts", Number.NEGATIVE_INFINITY, {
        min: 1,
        infinity: "to never give up",
      }),
    ).toThrow(
      "maxAttempts must be a whole number >= 1, or Infinity to never give up, got -Infinity",
    );
    expect(() => checkNumber("factor", Number.NaN, { min: 1, fractional: true })).toThrow(
      "factor must be a finite number >= 1, got NaN",
    );
  });

  it("read text (a URL's query): absent is undefined, blank is not 0", () => {
    expect(numberFromText("w", null, { min: 0, max: 20 })).toBeUndefined();
    expect(numberFromText("w", "20", { min: 0, max: 20 })).toBe(20);
    for (const text of ["", " ", "abc", "1.5", "Infinity", "21", "-1"])
      expect(() => numberFromText("waitTimeSeconds", text, { min: 0, max: 20 })).toThrow(
        `waitTimeSeconds must be a whole number from 0 to 20, got '${text}'`,
      );
  });
});
