import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { topicMatches } from "../src/routing/topic-matcher.js";

// [pattern, routing key, matches] — the seed's table and RabbitMQ's edge cases.
// Every row was checked against this machine's RabbitMQ (a topic exchange, one
// queue bound per pattern, each key published).
const TABLE: [string, string, boolean][] = [
  ["*.stock.#", "usd.stock", true],
  ["*.stock.#", "eur.stock.db", true],
  ["*.stock.#", "stock.nasdaq", false],
  ["#", "", true],
  ["#", "a", true],
  ["#", "a.b.c", true],
  ["*", "", false],
  ["*", "a", true],
  ["*", "a.b", false],
  ["a.*.b", "a..b", true],
  ["a.*.b", "a.x.b", true],
  ["a.*.b", "a.x.y.b", false],
  ["a.#", "a", true],
  ["a.#", "a.b.c", true],
  ["#.a", "a", true],
  ["#.a", "x.y.a", true],
  ["a.#.b", "a.b", true],
  ["a.#.b", "a.x.y.b", true],
  ["a.#.#.b", "a.b", true],
  ["", "", true],
  ["", "a", false],
  ["a", "", false],
  ["a.b", "a.b", true],
  ["a.b", "a.c", false],
  ["*.*", ".", true],
  ["#.*", "", false],
  ["#.*", "a", true],
  ["*", ".", false],
  ["a.", "a.", true],
  ["a.*", "a.", true],
  ["#.#", "", true],
  ["*.#", "", false],
  [".", "", false],
  ["*", " ", true],
];

describe("topicMatches", () => {
  it.each(TABLE)("'%s' against '%s' is %s", (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });

  it("agrees with a plain recursive reference on random keys and patterns", () => {
    const word = fc.constantFrom("", "a", "b", "stock");
    const key = fc.array(word, { maxLength: 6 }).map((words) => words.join("."));
    const pattern = fc
      .array(fc.constantFrom("", "a", "b", "stock", "*", "#"), { maxLength: 6 })
      .map((words) => words.join("."));
    fc.assert(
      fc.property(pattern, key, (p, k) => topicMatches(p, k) === reference(split(p), split(k))),
      { numRuns: 20_000 },
    );
  });
});

function split(text: string): string[] {
  return text === "" ? [] : text.split(".");
}

/** The definition, written as directly as possible: slow, obviously right. */
function reference(pattern: string[], key: string[]): boolean {
  if (pattern.length === 0) return key.length === 0;
  const [head, ...rest] = pattern;
  if (head === "#")
    return reference(rest, key) || (key.length > 0 && reference(pattern, key.slice(1)));
  if (key.length === 0) return false;
  return (head === "*" || head === key[0]) && reference(rest, key.slice(1));
}
