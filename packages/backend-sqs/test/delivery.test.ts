import { GetQueueAttributesCommand, GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { Consumer, type Message, Publisher } from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { connectSqs, deleteQueues, rawClient, uniquePrefix, waitFor } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

describe("deliveries on SQS", () => {
  it("requeue() makes the message visible at once, marked redelivered", async () => {
    const { conn } = await connectSqs(prefix);
    const consumer = new Consumer(conn, { queue: "requeue" });
    await consumer.declare();
    await new Publisher(conn, { routingKey: "requeue" }).send("again");
    const first = await consumer.fetch();
    expect(first?.deliveryInfo.redelivered).toBe(false);
    await first?.requeue();
    const second = await consumer.fetch();
    expect(second?.payload).toBe("again");
    expect(second?.deliveryInfo.redelivered).toBe(true);
    await second?.ack();
    expect(await consumer.fetch()).toBeNull();
    await conn.close();
  });

  it("reject() dead-letters through the deadLetterExchange, with the original routing key", async () => {
    const { conn } = await connectSqs(prefix);
    const dead = new Consumer(conn, {
      queue: "dead",
      exchange: "dlx",
      exchangeType: "topic",
      routingKey: "work.#",
    });
    await dead.declare();
    const work = new Consumer(conn, {
      queue: "work",
      exchange: "jobs",
      routingKey: "work.a",
      queueArguments: { deadLetterExchange: "dlx" },
    });
    await work.declare();
    await new Publisher(conn, { exchange: "jobs", routingKey: "work.a" }).send(
      { job: 1 },
      { headers: { h: "v" } },
    );
    const message = await work.fetch();
    await message?.reject();
    expect(await work.fetch()).toBeNull();
    const deadLettered = await dead.fetch();
    expect(deadLettered?.payload).toEqual({ job: 1 });
    expect(deadLettered?.headers).toMatchObject({ h: "v" });
    expect(deadLettered?.deliveryInfo).toMatchObject({ exchange: "dlx", routingKey: "work.a" });
    await deadLettered?.ack();
    await conn.close();
  });

  it("reject() without dead-lettering deletes the message", async () => {
    const { conn } = await connectSqs(prefix);
    const consumer = new Consumer(conn, { queue: "drop" });
    await consumer.declare();
    await new Publisher(conn, { routingKey: "drop" }).send(1);
    await (await consumer.fetch())?.reject();
    expect(await consumer.fetch()).toBeNull();
    await conn.close();
  });

  it("declares a native RedrivePolicy (x-max-receive-count, x-dead-letter-queue) that SQS applies", async () => {
    const { conn } = await connectSqs(prefix);
    const dlq = new Consumer(conn, { queue: "redrive-dlq" });
    await dlq.declare();
    const consumer = new Consumer(conn, {
      queue: "redrive",
      queueArguments: { "x-max-receive-count": 2, "x-dead-letter-queue": "redrive-dlq" },
    });
    await consumer.declare();
    const client = rawClient();
    const { QueueUrl } = await client.send(
      new GetQueueUrlCommand({ QueueName: `${prefix}redrive` }),
    );
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["RedrivePolicy"] }),
    );
    client.destroy();
    const policy = JSON.parse(Attributes?.RedrivePolicy ?? "{}");
    expect(Number(policy.maxReceiveCount)).toBe(2);
    expect(policy.deadLetterTargetArn).toMatch(/redrive-dlq$/);

    await new Publisher(conn, { routingKey: "redrive" }).send("poison");
    for (let i = 0; i < 2; i++) await (await consumer.fetch())?.requeue();
    expect(await consumer.fetch()).toBeNull(); // third receive: SQS moved it
    expect((await dlq.fetch())?.payload).toBe("poison");
    await conn.close();
  });

  it("closing the connection gives unsettled messages back at once", async () => {
    const first = await connectSqs(prefix);
    const consumer = new Consumer(first.conn, { queue: "giveback" });
    await consumer.declare();
    await new Publisher(first.conn, { routingKey: "giveback" }).send("kept");
    const held = await consumer.fetch();
    expect(held).not.toBeNull();
    await first.conn.close();
    const second = await connectSqs(prefix);
    const again = await new Consumer(second.conn, { queue: "giveback" }).fetch();
    expect(again?.payload).toBe("kept");
    expect(again?.deliveryInfo.redelivered).toBe(true);
    await again?.ack();
    await second.conn.close();
  });

  it("keeps a slow handler's message invisible past its visibility timeout: no duplicate", async () => {
    const slow = await connectSqs(prefix, { visibilityTimeout: 1, waitTimeSeconds: 1 });
    const rival = await connectSqs(prefix, { visibilityTimeout: 1, waitTimeSeconds: 1 });
    const consumer = new Consumer(slow.conn, { queue: "slow", prefetchCount: 1 });
    await consumer.declare();
    const rivalConsumer = new Consumer(rival.conn, { queue: "slow" });
    const rivalGot: unknown[] = [];
    rivalConsumer.registerCallback(async (data, message) => {
      rivalGot.push(data);
      await message.ack();
    });
    const rivalWaiting = rivalConsumer.wait();
    const handled = waitFor<void>("the slow handler");
    let calls = 0;
    consumer.registerCallback(async (_data, message) => {
      calls++;
      // The work: four visibility timeouts long.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      await message.ack();
      handled.resolve();
    });
    const waiting = consumer.wait();
    await new Publisher(slow.conn, { routingKey: "slow" }).send("slow work");
    await handled.promise;
    await Promise.all([consumer.cancel(), rivalConsumer.cancel()]);
    await Promise.all([waiting, rivalWaiting]);
    expect(calls).toBe(1);
    expect(rivalGot).toEqual([]);
    await Promise.all([slow.conn.close(), rival.conn.close()]);
  });

  it("message.extend() keeps a fetched message for longer than the lease", async () => {
    const { conn } = await connectSqs(prefix, { visibilityTimeout: 1 });
    const rival = await connectSqs(prefix, { visibilityTimeout: 1 });
    const consumer = new Consumer(conn, { queue: "extend" });
    await consumer.declare();
    await new Publisher(conn, { routingKey: "extend" }).send("mine");
    const message = (await consumer.fetch()) as Message;
    await message.extend(60);
    expect(await new Consumer(rival.conn, { queue: "extend" }).fetch()).toBeNull();
    await message.ack();
    await Promise.all([conn.close(), rival.conn.close()]);
  });

  it("a cancelled consumer's long poll in flight gives what it gets straight back", async () => {
    const first = await connectSqs(prefix, { waitTimeSeconds: 5 });
    const cancelled = new Consumer(first.conn, { queue: "abandoned" });
    await cancelled.declare();
    cancelled.registerCallback(async (_data, message) => {
      await message.ack(); // never called: nothing is sent before the cancel
    });
    const idle = cancelled.wait();
    await cancelled.cancel();
    await idle;
    // The cancelled consumer's receive is still waiting on the server: it takes this message first.
    await new Publisher(first.conn, { routingKey: "abandoned" }).send("not lost");
    const second = await connectSqs(prefix, { waitTimeSeconds: 1 });
    const consumer = new Consumer(second.conn, { queue: "abandoned" });
    const got = waitFor<unknown>("the message, well before a 30 s visibility timeout", 10_000);
    consumer.registerCallback(async (data, message) => {
      await message.ack();
      got.resolve(data);
    });
    const waiting = consumer.wait({ limit: 1 });
    expect(await got.promise).toBe("not lost");
    await waiting;
    await Promise.all([first.conn.close(), second.conn.close()]);
  });
});
