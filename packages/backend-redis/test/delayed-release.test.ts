import { afterAll, describe, expect, it } from "vitest";
import { RELEASE_BATCH, type ReleaseHost, releaseDue } from "../src/delayed-release.js";
import { KeyLayout } from "../src/key-layout.js";
import { withScripts } from "../src/lua-scripts.js";
import { encodeEnvelope } from "../src/message-codec.js";
import { TopologyStore } from "../src/topology-store.js";
import { rawRedis, removeKeys, unique, uniquePrefix } from "./support/redis.js";

// The release itself, from two "processes" (two connections, each with its
// own route cache) at once: no message may be stored twice.

const prefix = uniquePrefix();
const keys = new KeyLayout(prefix);
afterAll(() => removeKeys(prefix));

/** A releaser on a connection of its own, with the errors it reports. */
function releaser(): { host: ReleaseHost; errors: unknown[]; close(): void } {
  const command = withScripts(rawRedis());
  const errors: unknown[] = [];
  const host = {
    command,
    keys,
    topology: new TopologyStore(command, keys),
    reportError: (error: unknown) => errors.push(error),
  };
  return { host, errors, close: () => command.disconnect() };
}

/** Holds `count` messages for `queue` on the default exchange, due at `dueAt` (Redis's clock, ms). */
async function hold(queue: string, count: number, dueAt: number, from = 0): Promise<void> {
  const redis = rawRedis();
  try {
    const writes = redis.pipeline();
    for (let i = from; i < from + count; i++) {
      const id = String(i).padStart(16, "0");
      const envelope = encodeEnvelope("", queue, {
        body: new Uint8Array(),
        headers: {},
        properties: {},
      });
      writes.hset(keys.delayedMessages(), `${id}:b`, `m${i}`, `${id}:m`, envelope);
      writes.zadd(keys.delayed(), dueAt, id);
    }
    await writes.exec();
  } finally {
    redis.disconnect();
  }
}

describe("releasing delayed messages", () => {
  it("two sweepers racing over the same due messages store each exactly once", async () => {
    const [a, b] = [releaser(), releaser()];
    try {
      const queue = unique("race");
      await a.host.topology.declareQueue({
        name: queue,
        durable: true,
        exclusive: false,
        autoDelete: false,
        arguments: {},
      });
      const total = RELEASE_BATCH * 2 + 50;
      await hold(queue, total, 0);
      let released = 0;
      let gone = 0;
      for (;;) {
        // Both read the same due batch before either releases it.
        const rounds = await Promise.all([releaseDue(a.host), releaseDue(b.host)]);
        for (const round of rounds) {
          released += round.released;
          gone += round.gone;
        }
        if (rounds.every((round) => !round.more && round.released === 0)) break;
      }
      expect(released).toBe(total);
      expect(gone).toBeGreaterThan(0); // they did race
      const redis = rawRedis();
      try {
        const bodies = (
          (await redis.xrange(keys.stream(queue), "-", "+")) as [string, string[]][]
        ).map(([, fields]) => fields[1]);
        expect(bodies).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
        expect(await redis.zcard(keys.delayed())).toBe(0);
        expect(await redis.hlen(keys.delayedMessages())).toBe(0);
      } finally {
        redis.disconnect();
      }
      expect([...a.errors, ...b.errors]).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
  });

  it("releases nothing before its due time on Redis's clock", async () => {
    const a = releaser();
    try {
      const queue = unique("early");
      const [seconds] = await a.host.command.time();
      await hold(queue, 1, Number(seconds) * 1000 + 60_000, 10_000);
      expect(await releaseDue(a.host)).toEqual({ released: 0, gone: 0, more: false });
      const redis = rawRedis();
      try {
        expect(await redis.zcard(keys.delayed())).toBe(1);
      } finally {
        await redis.del(keys.delayed(), keys.delayedMessages());
        redis.disconnect();
      }
    } finally {
      a.close();
    }
  });

  it("keeps a message Redis refuses to store, and tries it again later", async () => {
    const a = releaser();
    const redis = rawRedis();
    try {
      const queue = unique("refused");
      await a.host.topology.declareQueue({
        name: queue,
        durable: true,
        exclusive: false,
        autoDelete: false,
        arguments: {},
      });
      // The queue's stream overwritten by something else: XADD fails with WRONGTYPE.
      await redis.del(keys.stream(queue));
      await redis.set(keys.stream(queue), "not a stream");
      await hold(queue, 1, 0, 20_000);
      const [seconds] = await a.host.command.time();
      expect(await releaseDue(a.host)).toEqual({ released: 0, gone: 0, more: false });
      expect(String(a.errors[0])).toMatch(/WRONGTYPE/);
      // Still held, due again a second later.
      const score = Number(await redis.zscore(keys.delayed(), "0000000000020000"));
      expect(score).toBeGreaterThanOrEqual(Number(seconds) * 1000 + 1000);
      expect(await redis.hlen(keys.delayedMessages())).toBe(2);
    } finally {
      await redis.del(keys.delayed(), keys.delayedMessages());
      redis.disconnect();
      a.close();
    }
  });
});
