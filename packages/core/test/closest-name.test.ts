import { describe, expect, it } from "vitest";
import { closestName } from "../src/closest-name.js";

const CONSUMER = [
  "queue",
  "exchange",
  "exchangeType",
  "prefetchCount",
  "maxDecompressedSize",
  "noAck",
  "autoDelete",
];

describe("closestName", () => {
  it.each([
    ["prefetch_count", "prefetchCount"],
    ["PREFETCH-COUNT", "prefetchCount"],
    ["prefetchcount", "prefetchCount"],
    ["prefecthCount", "prefetchCount"], // two letters swapped: one edit
    ["prefetchCont", "prefetchCount"],
    ["max_decompressed_size", "maxDecompressedSize"],
    ["no_ack", "noAck"],
    ["queu", "queue"],
    ["auto_delete", "autoDelete"],
    ["prefetch", "prefetchCount"], // the start of one name
    ["queue_name", "queue"], // one name and more
  ])("suggests %s -> %s", (given, expected) => {
    expect(closestName(given, CONSUMER)).toBe(expected);
  });

  // "exch" begins two names: no guess.
  it.each(["colour", "x", "routingKey", "exch"])("suggests nothing for %s", (given) => {
    expect(closestName(given, CONSUMER)).toBeUndefined();
  });

  it("spends nothing on a hostile megabyte-long name", () => {
    expect(closestName("q".repeat(1_000_000), CONSUMER)).toBeUndefined();
  });
});
