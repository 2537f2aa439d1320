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
