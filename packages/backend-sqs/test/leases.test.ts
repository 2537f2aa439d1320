import { setTimeout as delay } from "node:timers/promises";
import { deferred } from "@carrot/conformance";
import { Connection, Consumer, type Message, Publisher } from "@carrot/core";
import { afterAll, expect, it } from "vitest";
import { deleteQueues, sqsUrl, unique, uniquePrefix } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

it("a callback still running after wait({ limit }) stopped consuming keeps its message past the visibility timeout", async () => {
  const visibilityTimeout = 2; // seconds
  const url = sqsUrl(prefix, { visibilityTimeout, waitTimeSeconds: 1 });
  const [holding, other] = [new Connection(url), new Connection(url)];
  try {
    const queue = unique("held");
    const started = deferred();
    let ackFailure: unknown = "not acked";
    const worker = new Consumer<string>(holding, { queue }).registerCallback(async (_data, m) => {
      started.resolve();
      // The work outlasts the visibility timeout three times over.
      await delay(3 * visibilityTimeout * 1000);
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

    // Meanwhile another consumer long-polls the queue: a lapsed lease would hand it the message.
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
  } finally {
    await Promise.all([holding.close(), other.close()]);
  }
});
