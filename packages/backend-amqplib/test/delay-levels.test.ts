import { InvalidOptionsError } from "@carrot/core";
import { describe, expect, it } from "vitest";
import { DELAY_LEVEL_BITS, delayLevel, MAX_DELAY_LEVEL } from "../src/delay-levels.js";
import { DELAY_PREFIX, delayName, delayPair } from "../src/delay-topology.js";

/** Every level needed for the delays 1..max, counted by walking from level to level. */
function levelsUpTo(max: number): number[] {
  const levels: number[] = [];
  for (let delay = 1; delay <= max; delay = levels.at(-1)! + 1) levels.push(delayLevel(delay));
  return levels;
}

describe("delay levels", () => {
  it("keeps delays up to 2^bits as they are", () => {
    for (let delay = 1; delay <= 2 ** DELAY_LEVEL_BITS; delay++)
      expect(delayLevel(delay)).toBe(delay);
  });

  it("rounds every delay up, never down, and by less than 12.5 %", () => {
    const delays = [
      ...Array.from({ length: 100_000 }, (_, i) => i + 1),
      ...Array.from({ length: 10_000 }, (_, i) => Math.floor(1.7 ** (i / 400))),
      2 ** 31 - 1,
      MAX_DELAY_LEVEL,
    ];
    // A level is its own level: a send of the level's delay waits exactly that.
    const wrong = delays.filter((delay) => {
      const level = delayLevel(delay);
      return level < delay || (level - delay) / delay >= 0.125 || delayLevel(level) !== level;
    });
    expect(wrong).toEqual([]);
  });

  it("has few levels: a bounded number of delay queues per exchange", () => {
    expect(levelsUpTo(60_000)).toHaveLength(111);
    expect(levelsUpTo(86_400_000)).toHaveLength(195);
    expect(levelsUpTo(2 ** 31 - 1)).toHaveLength(232); // core's longest delay
    expect(levelsUpTo(100).slice(14)).toEqual([
      15, 16, 18, 20, 22, 24, 26, 28, 30, 32, 36, 40, 44, 48, 52, 56, 60, 64, 72, 80, 88, 96, 104,
    ]);
  });

  it("counts a fraction of a millisecond as a whole one", () => {
    expect(delayLevel(0.2)).toBe(1);
    expect(delayLevel(16.5)).toBe(18);
  });

  it("refuses delays longer than RabbitMQ holds a message (x-message-ttl up to ten years)", () => {
    expect(delayLevel(MAX_DELAY_LEVEL)).toBe(MAX_DELAY_LEVEL);
    expect(() => delayLevel(MAX_DELAY_LEVEL + 1)).toThrow(InvalidOptionsError);
    expect(() => delayLevel(Number.NaN)).toThrow(InvalidOptionsError);
  });
});

describe("delay queue names", () => {
  it("name the target exchange and the level, amq.default for the default exchange", () => {
    expect(delayName("orders", 1024)).toBe("carrot.delay.orders.1024ms");
    expect(delayName("", 18)).toBe("carrot.delay.amq.default.18ms");
  });

  it("stay within RabbitMQ's 255 bytes, distinct for distinct exchanges, characters whole", () => {
    const long = "é".repeat(200); // 400 bytes
    const other = `${"é".repeat(199)}e`;
    const level = MAX_DELAY_LEVEL;
    for (const name of [delayName(long, level), delayName(other, level)]) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
      expect(name.startsWith(DELAY_PREFIX)).toBe(true);
      expect(name.endsWith(`.${level}ms`)).toBe(true);
      expect(name).not.toContain("\uFFFD");
    }
    expect(delayName(long, level)).not.toBe(delayName(other, level));
    // The longest exchange name that fits is kept whole.
    const fits = "x".repeat(255 - DELAY_PREFIX.length - ".1ms".length);
    expect(delayName(fits, 1)).toBe(`${DELAY_PREFIX}${fits}.1ms`);
    expect(delayName(`${fits}y`, 1)).toMatch(/^carrot\.delay\.x+~[0-9a-f]{16}\.1ms$/);
  });

  it("declare a fanout exchange and a durable classic queue that dead-letters to the target", () => {
    expect(delayPair("", 1024)).toEqual({
      exchange: {
        name: "carrot.delay.amq.default.1024ms",
        type: "fanout",
        durable: true,
        autoDelete: false,
      },
      queue: {
        name: "carrot.delay.amq.default.1024ms",
        durable: true,
        exclusive: false,
        autoDelete: false,
        // No x-dead-letter-routing-key (the message keeps its own), no x-expires.
        arguments: { queueType: "classic", messageTtl: 1024, deadLetterExchange: "" },
      },
      binding: {
        queue: "carrot.delay.amq.default.1024ms",
        exchange: "carrot.delay.amq.default.1024ms",
        routingKey: "",
      },
    });
  });
});
