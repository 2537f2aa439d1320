import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_URL, redisUrl, removeKeys, uniquePrefix } from "./support/redis.js";

// Short reclaim times so that the suite's at-least-once cases finish within its waits.
const prefix = uniquePrefix();
const settings = { visibilityTimeout: 2000, claimInterval: 200 };
const target = new URL(REDIS_URL);
afterAll(() => removeKeys(prefix));

describeBackend("redis", {
  connect: () => new Connection(redisUrl(prefix, settings)),
  runner: { describe, it, expect, beforeAll, afterAll },
  faults: {
    target: { host: target.hostname, port: Number(target.port || 6379) },
    connectThrough: (port, overrides) => {
      const url = new URL(redisUrl(prefix, settings));
      url.host = `127.0.0.1:${port}`;
      return new Connection({
        url: url.href,
        reconnect: { initialDelay: 50, maxDelay: 500 },
        // A connection silent for two heartbeats is dropped: a case silences some.
        heartbeat: 1,
        ...overrides,
      });
    },
  },
});
