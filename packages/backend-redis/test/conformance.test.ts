import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyLayout } from "../src/key-layout.js";
import { REDIS_URL, rawRedis, redisUrl, removeKeys, uniquePrefix } from "./support/redis.js";

// Short reclaim times so that the suite's at-least-once cases finish within its waits.
const prefix = uniquePrefix();
const settings = { visibilityTimeout: 2000, claimInterval: 200 };
const target = new URL(REDIS_URL);
afterAll(() => removeKeys(prefix));

// Another client's XADD onto the queue's stream: carrot's fields, with
// whatever it likes in them.
const raw = rawRedis();
afterAll(() => raw.quit());
const streamOf = (queue: string) => new KeyLayout(prefix).stream(queue);
async function xadd(queue: string, envelope: string, body: Uint8Array): Promise<void> {
  await raw.xadd(streamOf(queue), "*", "b", Buffer.from(body), "m", envelope);
}

// The lease cases hold messages past a lease this short: renewals must keep them.
const shortLeases = { visibilityTimeout: 1000, claimInterval: 100 };

describeBackend("redis", {
  connect: () => new Connection(redisUrl(prefix, settings)),
  runner: { describe, it, expect, beforeAll, afterAll },
  // The count-crash case kills a consumer process holding messages: another reclaims them.
  processes: {
    url: redisUrl(prefix, settings),
    execArgv: ["--import", "tsx", "--conditions=@carrot/source"],
  },
  // Released at the due time by the publishing connection's sweep, by every
  // other connection's within a second: a second, and room for a loaded machine.
  delayToleranceMs: 1_500,
  leases: {
    connect: () => new Connection(redisUrl(prefix, shortLeases)),
    leaseMs: shortLeases.visibilityTimeout,
  },
  hostile: {
    write: (queue, { body, contentType, contentEncoding, headers }) =>
      xadd(
        queue,
        JSON.stringify({ e: "", k: queue, c: contentType, n: contentEncoding, h: headers }),
        body,
      ),
    writeEnvelope: xadd,
  },
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
