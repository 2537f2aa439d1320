import { afterAll, describe, expect, it } from "vitest";
import { withScripts } from "../src/lua-scripts.js";
import { rawRedis, removeKeys, uniquePrefix } from "./support/redis.js";

// The settle, requeue and touch scripts act only on the entries the calling
// consumer still owns, and return the others as lost. They find ownership in
// one XPENDING over the range the ids span; these cases are the ones that
// range query could get wrong.

const prefix = uniquePrefix();
const GROUP = "carrot";
afterAll(() => removeKeys(prefix));

/** A stream of `count` entries, all read by consumer "a": their ids, in order. */
async function streamOwnedByA(redis: ReturnType<typeof rawRedis>, key: string, count: number) {
  await redis.xgroup("CREATE", key, GROUP, "0", "MKSTREAM");
  const adds = redis.pipeline();
  for (let i = 0; i < count; i++) adds.xadd(key, "*", "b", String(i));
  await adds.exec();
  await redis.xreadgroup("GROUP", GROUP, "a", "COUNT", count, "STREAMS", key, ">");
  return ((await redis.xrange(key, "-", "+")) as [string, string[]][]).map(([id]) => id);
}

async function pendingOf(redis: ReturnType<typeof rawRedis>, key: string, consumer: string) {
  const pending = (await redis.xpending(key, GROUP, "-", "+", 10_000, consumer)) as [string][];
  return pending.map(([id]) => id);
}

describe("ownership in the settle scripts", () => {
  const redis = withScripts(rawRedis());
  afterAll(() => redis.disconnect());

  it("settles the ids asked for, whatever else the consumer holds between them", async () => {
    const key = `{${prefix}}:wide`;
    const ids = await streamOwnedByA(redis, key, 300);
    // Two ids far apart: the range between them holds 298 more of the consumer's entries.
    const lost = await redis.carrotSettle(key, GROUP, "a", ids[299]!, ids[0]!);
    expect(lost).toEqual([]);
    expect(await pendingOf(redis, key, "a")).toEqual(ids.slice(1, 299));
    expect(await redis.xlen(key)).toBe(298);
  });

  it("leaves an entry another consumer took, and says it is lost", async () => {
    const key = `{${prefix}}:taken`;
    const ids = await streamOwnedByA(redis, key, 5);
    await redis.xclaim(key, GROUP, "b", 0, ids[2]!);
    const lost = await redis.carrotSettle(key, GROUP, "a", ...ids);
    expect(lost).toEqual([ids[2]]);
    expect(await pendingOf(redis, key, "b")).toEqual([ids[2]]);
    expect(await redis.xlen(key)).toBe(1);
  });

  it("touches and requeues only what the consumer owns", async () => {
    const key = `{${prefix}}:touch`;
    const ids = await streamOwnedByA(redis, key, 4);
    await redis.xclaim(key, GROUP, "b", 0, ids[1]!);
    expect(await redis.carrotTouch(key, GROUP, "a", ...ids)).toEqual([ids[1]]);
    expect(await redis.carrotRequeue(key, GROUP, "a", ids[3]!, ids[1]!)).toEqual([ids[1]]);
    // The requeued entry is a new one at the tail, marked redelivered; the original is gone.
    const entries = (await redis.xrange(key, "-", "+")) as [string, string[]][];
    expect(entries.map(([id]) => id).slice(0, 3)).toEqual(ids.slice(0, 3));
    expect(entries[3]?.[1]).toEqual(["b", "3", "r", "1"]);
    expect(await pendingOf(redis, key, "a")).toEqual([ids[0], ids[2]]);
  });

  it("finds the range of ids whose parts differ in length (ordered as numbers, not as text)", async () => {
    const key = `{${prefix}}:lengths`;
    await redis.xgroup("CREATE", key, GROUP, "0", "MKSTREAM");
    for (const id of ["5-9", "5-10", "10-1", "100-2"]) await redis.xadd(key, id, "b", id);
    await redis.xreadgroup("GROUP", GROUP, "a", "COUNT", 10, "STREAMS", key, ">");
    expect(await redis.carrotSettle(key, GROUP, "a", "5-10", "100-2", "5-9")).toEqual([]);
    expect(await pendingOf(redis, key, "a")).toEqual(["10-1"]);
  });

  it("owns nothing in a stream or group that is gone", async () => {
    const key = `{${prefix}}:gone`;
    expect(await redis.carrotSettle(key, GROUP, "a", "1-0", "2-0")).toEqual([]);
  });
});
