import {
  type BackendOptions,
  DEFAULT_RECONNECT_POLICY,
  InvalidOptionsError,
} from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import { resolveRedisOptions } from "../src/redis-options.js";

// What a redis:// URL and the redis transport options accept, and what they
// refuse and how they say so. No Redis is reached here.

function resolve(options: Partial<BackendOptions>) {
  return resolveRedisOptions({
    alternates: [],
    connectTimeout: 10_000,
    reconnect: DEFAULT_RECONNECT_POLICY,
    transportOptions: {},
    ...options,
  });
}

describe("redis options", () => {
  it("take the database as the path and the settings in the query", () => {
    const resolved = resolve({
      url: "redis://cache:6380/2?visibilityTimeout=5000&claimInterval=100",
    });
    expect(resolved.redis).toMatchObject({ host: "cache", port: 6380, db: 2 });
    expect(resolved.settings).toMatchObject({ visibilityTimeout: 5000, claimInterval: 100 });
  });

  it.each([
    [
      "redis://cache:6379/notanumber",
      "the path of a redis URL is the database number, a whole number >= 0, got '/notanumber'",
    ],
    ["redis://cache:6379/-1", "got '/-1'"],
    ["redis://cache:6379/1.5", "got '/1.5'"],
    ["redis://cache:6379/0/extra", "got '/0/extra'"],
    [
      "redis://cache:6379?db=2",
      "the database is the URL's path, not ?db=; write redis://host:6379/2",
    ],
    [
      "redis://cache:6379/0?visibility_timeout=5",
      "unknown redis:// option 'visibility_timeout' in redis://cache:6379/0?visibility_timeout=5; did you mean 'visibilityTimeout'?",
    ],
    [
      "redis://cache:6379/0?family=6",
      "known: prefix, visibilityTimeout, claimInterval, maxMessageSize",
    ],
    [
      "redis://cache:0/0",
      "the port of redis://cache:0/0 must be a whole number from 1 to 65535, got 0",
    ],
    [
      "redis://cache:notaport/0",
      "(the port 'notaport' is not a number); expected redis://[user:password@]host:6379/0",
    ],
    [
      "redis://cache/0?visibilityTimeout=",
      "redis option visibilityTimeout must be a whole number of milliseconds from 1 to 2147483647, got ''",
    ],
    ["redis://cache/0?visibilityTimeout=-1", "got '-1'"],
    ["redis://cache/0?visibilityTimeout=Infinity", "got 'Infinity'"],
    [
      "redis://cache/0?claimInterval=0.5",
      "redis option claimInterval must be a whole number of milliseconds from 1 to 2147483647, got '0.5'",
    ],
    [
      "redis://cache/0?maxMessageSize=1e12",
      "redis option maxMessageSize must be a whole number of bytes from 1 to 536870912, got '1e12'",
    ],
  ])("refuse %s", (url, message) => {
    expect(() => resolve({ url })).toThrow(InvalidOptionsError);
    expect(() => resolve({ url })).toThrow(message);
  });

  it.each([
    [
      { visibilityTimeout: Number.NaN },
      "redis option visibilityTimeout must be a whole number of milliseconds from 1 to 2147483647, got NaN",
    ],
    [{ claimInterval: Number.POSITIVE_INFINITY }, "got Infinity"],
    [{ maxMessageSize: 0 }, "got 0"],
  ])("refuse transportOptions %j", (transportOptions, message) => {
    expect(() => resolve({ transportOptions })).toThrow(message);
  });

  it("never show the password in these errors", () => {
    expect(() => resolve({ url: "redis://u:s3cret@cache:6379/x" })).toThrow(/u:\*\*\*@cache/);
    expect(() => resolve({ url: "redis://u:s3cret@cache:6379/x" })).not.toThrow(/s3cret/);
  });
});

describe("redis cluster options", () => {
  it("redis+cluster:// names every seed node; credentials and settings as for one Redis, never shown", () => {
    const resolved = resolve({
      url: "redis+cluster://app:s3cret@10.0.0.1:7000,[::1]:7001,cache/?prefix=p&replicas=0",
    });
    expect(resolved.cluster?.nodes).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "::1", port: 7001 },
      { host: "cache", port: 6379 },
    ]);
    expect(resolved.redis).toMatchObject({ username: "app", password: "s3cret" });
    expect(resolved.settings).toMatchObject({ prefix: "p", replicas: 0 });
    expect(resolved.display).toBe("redis+cluster://10.0.0.1:7000,[::1]:7001,cache:6379");
  });

  it("rediss+cluster:// is TLS; a cluster confirms on one replica by default, one Redis on none", () => {
    const cluster = resolve({ url: "rediss+cluster://a:7000" });
    expect(cluster.redis.tls).toEqual({});
    expect(cluster.settings.replicas).toBe(1);
    expect(resolve({ url: "redis://a:6379" }).settings.replicas).toBe(0);
  });

  it("the same through options: transportOptions.cluster (nodes, then ioredis's ClusterOptions) and alternates", () => {
    const resolved = resolve({
      hostname: "ignored-when-nodes-are-given",
      alternates: ["redis+cluster://c:7002,d:7003"],
      transportOptions: {
        cluster: { nodes: ["a:7000", { host: "b", port: 7001 }], scaleReads: "master" },
      },
    });
    expect(resolved.cluster?.nodes.map(({ host, port }) => `${host}:${port}`)).toEqual([
      "c:7002",
      "d:7003",
      "a:7000",
      "b:7001",
    ]);
    expect(resolved.cluster?.options).toEqual({ scaleReads: "master" });
    expect(resolved.redis).not.toHaveProperty("cluster");
  });

  it.each([
    ["redis+cluster://a:7000,b:x/", "'b:x' in redis+cluster://a:7000,b:x is not a host:port"],
    ["redis+cluster://a:7000,b:70000", "the port of 'b:70000'"],
    ["redis+cluster://a:7000/2", "a Redis Cluster has database 0 only"],
    ["redis+cluster://a:7000/?db=1", "the database is the URL's path"],
  ])("%s is refused: %s", (url, message) => {
    expect(() => resolve({ url })).toThrow(InvalidOptionsError);
    expect(() => resolve({ url })).toThrow(message);
  });

  it("a refused cluster URL never shows its password", () => {
    for (const url of [
      "redis+cluster://u:pw-s3cret@a:7000,b:x",
      "redis+cluster://u:pw-s3cret@a:7000/2",
    ]) {
      expect(() => resolve({ url })).toThrow(InvalidOptionsError);
      try {
        resolve({ url });
      } catch (error) {
        expect(String(error)).not.toContain("pw-s3cret");
      }
    }
  });

  it("alternates that are not cluster URLs, and a malformed transportOptions.cluster, are refused", () => {
    expect(() =>
      resolve({ url: "redis+cluster://a:7000", alternates: ["redis://b:6379"] }),
    ).toThrow("the alternates of a Redis Cluster connection are more seed nodes");
    expect(() => resolve({ transportOptions: { cluster: "a:7000" } })).toThrow(
      "transportOptions.cluster is an object",
    );
    expect(() => resolve({ transportOptions: { cluster: { nodes: [42] } } })).toThrow(
      "a cluster node is 'host:port' or { host, port }",
    );
  });
});
