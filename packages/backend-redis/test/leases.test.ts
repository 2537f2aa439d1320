import { setTimeout as delay } from "node:timers/promises";
import { Connection, Consumer, type Message, Publisher } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { deferred, redisUrl, removeKeys, unique, uniquePrefix } from "./support/redis.js";

describe("leases of held messages", () => {
  const prefix = uniquePrefix();
  const visibilityTimeout = 1000;
  const url = redisUrl(prefix, { visibilityTimeout, claimInterval: 100 });
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await removeKeys(prefix);
  });

  it("a callback still running after wait({ limit }) stopped consuming keeps its message past the visibility timeout", async () => {
    const [holding, other] = [new Connection(url), new Connection(url)];
    open.push(holding, other);
    const queue = unique("held");
    const started = deferred();
    let ackFailure: unknown = "not acked";
    const worker = new Consumer<string>(holding, { queue }).registerCallback(async (_data, m) => {
      started.resolve();
      // The work outlasts the visibility timeout three times over.
      await delay(3 * visibilityTimeout);
      ackFailure = await m.ack().then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    await worker.declare();
    // The limit stops the subscription as the message starts: the callback runs on.
    const working = worker.wait({ limit: 1 });
    await new Publisher(holding, { routingKey: queue }).send("slow work");
    await started.promise;

    // Meanwhile another consumer looks for idle entries to reclaim every 100 ms.
    const taken: Message<string>[] = [];
    const thief = new Consumer<string>(other, { queue }).registerCallback(async (_data, m) => {
      taken.push(m);
      await m.ack();
    });
    const stealing = thief.wait();
    await working;
    await thief.cancel();
    await stealing;
    expect(taken).toEqual([]);
    expect(ackFailure).toBeUndefined(); // a lapsed lease fails the ack: the message was taken away
  });
});
