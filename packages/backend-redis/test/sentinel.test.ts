import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRoundTrip, REDIS_URL, removeKeys, unique, uniquePrefix } from "./support/redis.js";
import { type RedisServer, startRedisServer } from "./support/redis-server.js";

// ioredis's Sentinel options go through transportOptions: a Sentinel of this
// test's own watches the machine's Redis, and carrot finds the master by
// asking it.

describe("Redis Sentinel (transportOptions)", () => {
  let dir: string;
  let sentinel: RedisServer;
  let sentinelPort: number;
  const master = unique("carrot-master");
  const prefix = uniquePrefix();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "carrot-redis-sentinel-"));
    sentinelPort = await freePort();
    const { hostname, port } = new URL(REDIS_URL);
    // Sentinel rewrites its config file, so it gets one of its own.
    const config = join(dir, "sentinel.conf");
    await writeFile(
      config,
      `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor ${master} ${hostname} ${port || 6379} 1\n`,
    );
    sentinel = await startRedisServer([config, "--sentinel"], /\+monitor master/);
  }, 30_000);

  afterAll(async () => {
    await sentinel?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await removeKeys(prefix);
  });

  it("finds the master through the Sentinel: the URL's own address is not used, nor shown", async () => {
    const conn = new Connection({
      // Nothing listens on port 1: only the Sentinel's answer leads to Redis.
      url: `redis://127.0.0.1:1/0?prefix=${prefix}`,
      transportOptions: { sentinels: [{ host: "127.0.0.1", port: sentinelPort }], name: master },
    });
    const hosts: string[] = [];
    conn.on("connect", ({ host }) => hosts.push(host));
    try {
      await expectRoundTrip(conn, "sentinel", { via: "sentinel" });
      expect(hosts).toEqual([`redis+sentinel://127.0.0.1:${sentinelPort}/${master}/0`]);
    } finally {
      await conn.close();
    }
  });
});
