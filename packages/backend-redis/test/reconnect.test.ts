import { FaultProxy } from "@carrot/conformance";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  deferred,
  REDIS_URL,
  redisUrl,
  removeKeys,
  unique,
  uniquePrefix,
  within,
} from "./support/redis.js";

describe("after ioredis reconnects", () => {
  const prefix = uniquePrefix();
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await removeKeys(prefix);
  });

  it("consumers resume; nothing acked comes back; nothing unacked is lost", async () => {
    const target = new URL(REDIS_URL);
    const proxy = await FaultProxy.start({
      host: target.hostname,
      port: Number(target.port || 6379),
    });
    cleanups.push(() => proxy.close());
    const settings = { visibilityTimeout: 1500, claimInterval: 100 };
    const viaProxy = new URL(redisUrl(prefix, settings));
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const consumerConn = new Connection({
      url: viaProxy.href,
      reconnect: { initialDelay: 20, maxDelay: 200 },
    });
    const publisherConn = new Connection(redisUrl(prefix, settings));
    cleanups.push(
      () => publisherConn.close(),
      () => consumerConn.close(),
    );
    const events: string[] = [];
    const reconnected = deferred();
    consumerConn.on("disconnect", () => events.push("disconnect"));
    consumerConn.on("reconnect", () => {
      events.push("reconnect");
      reconnected.resolve();
    });

    const queue = unique("jobs");
    const total = 300;
    const acked = new Set<string>();
    const seen = new Set<string>();
    const cameBackAfterAck: string[] = [];
    const allSeen = deferred();
    const consumer = new Consumer<string>(consumerConn, { queue, prefetchCount: 20 });
    consumer.on("error", () => {});
    let cuts = 0;
    consumer.registerCallback(async (data, message) => {
      if (acked.has(data)) cameBackAfterAck.push(data);
      seen.add(data);
      if ((seen.size === 100 && cuts === 0) || (seen.size === 200 && cuts === 1)) {
        cuts++;
        proxy.cut();
      }
      try {
        await message.ack();
        acked.add(data);
      } catch {
        // The ack did not make it: the message may come again, which is allowed.
      }
      if (seen.size === total) allSeen.resolve();
    });
    await consumer.declare();
    const done = consumer.wait();
    const publisher = new Publisher(publisherConn, { routingKey: queue });
    await Promise.all(Array.from({ length: total }, (_, i) => publisher.send(`m${i}`)));

    await within(allSeen.promise, 30_000, `all ${total} messages (seen ${seen.size})`);
    await within(reconnected.promise, 10_000, "a reconnect event");
    await consumer.cancel();
    await done;
    expect(cuts).toBe(2);
    expect(cameBackAfterAck).toEqual([]);
    expect(seen.size).toBe(total);
    expect(events).toContain("disconnect");
    // Everything was acked in the end: the queue is empty and nothing is pending.
    expect(await consumerConn.purgeQueue(queue)).toBe(0);
  });
});
