import { InvalidOptionsError } from "@carrot/core";
import { describe, expect, it } from "vitest";
import { sqsQueueName } from "../src/index.js";

const VALID = /^[A-Za-z0-9_-]{1,80}$/;
const valid = (name: string) =>
  VALID.test(name.endsWith(".fifo") ? name.slice(0, -5) : name) && name.length <= 80;

describe("queue name mapping", () => {
  it("keeps letters, digits and '-' and escapes everything else, '_' included", () => {
    expect(sqsQueueName("orders-2", "")).toBe("orders-2");
    expect(sqsQueueName("orders.created", "")).toBe("orders_2ecreated");
    expect(sqsQueueName("a_b", "")).toBe("a_5fb");
    expect(sqsQueueName("café", "app-")).toBe("app-caf_c3_a9");
  });

  it("keeps the .fifo suffix", () => {
    expect(sqsQueueName("jobs.fifo", "p_")).toBe("p_jobs.fifo");
    expect(sqsQueueName("a.b.fifo", "")).toBe("a_2eb.fifo");
  });

  it("never maps two different names to one SQS name", () => {
    const names = [
      "a.b",
      "a_2eb",
      "a_b",
      "a-b",
      "a b",
      "a/b",
      "a.b.fifo",
      "a_2eb.fifo",
      "x".repeat(90),
      `${"x".repeat(89)}y`,
      "é",
      "_c3_a9",
    ];
    for (let i = 0; i < 200; i++)
      names.push(`${"long.name.".repeat(10)}${i}`, `${"long_name_".repeat(10)}${i}`);
    const mapped = names.map((name) => sqsQueueName(name, "pre-"));
    expect(new Set(mapped).size).toBe(names.length);
    for (const name of mapped) expect(valid(name)).toBe(true);
  });

  it("cuts long names and appends a hash of the original, within 80 characters", () => {
    const name = sqsQueueName(`${"q".repeat(100)}.fifo`, "prefix-");
    expect(name).toHaveLength(80);
    expect(name.endsWith(".fifo")).toBe(true);
    expect(name).toMatch(/_h[A-Za-z0-9_-]{12}\.fifo$/);
  });

  it("refuses names that cannot be mapped", () => {
    expect(() => sqsQueueName("", "")).toThrow(InvalidOptionsError);
    expect(() => sqsQueueName(".fifo", "")).toThrow(InvalidOptionsError);
    expect(() => sqsQueueName("bad\uD800", "")).toThrow(InvalidOptionsError);
  });
});
