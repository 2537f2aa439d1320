import {
  Connection,
  ConnectionLostError,
  Consumer,
  Publisher,
  PublishOutcomeUnknownError,
  PublishTimeoutError,
} from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { AMQP_URL, deferred, unique, within } from "./support/broker.js";
import { FaultProxy } from "./support/fault-proxy.js";

const broker = new URL(AMQP_URL);
const MESSAGES = 6_000;
const CUTS_AT = [1_000, 2_500, 4_000];

describe("publish/consume load with the connection cut several times", () => {
  const open: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const thing of open.reverse()) await thing.close();
  });

  it("consumes every confirmed message at least once, acks none twice, and consumers resume by themselves", async () => {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    open.push(proxy);
    const reconnect = { initialDelay: 10, maxDelay: 200 };
    const consuming = new Connection({ url: proxy.url, reconnect });
    const publishing = new Connection({ url: proxy.url, reconnect });
    open.push(consuming, publishing);
    const queue = unique("load");
    const exchange = unique("load-x");

    // Each physical publish has its own messageId: a retried send is a new message.
    const ackedByMessageId = new Map<string, number>();
    const consumedIds = new Set<number>();
    const confirmedIds = new Set<number>();
    const allConsumed = deferred();
    const consumer = new Consumer<{ id: number }>(consuming, {
      queue,
      exchange,
      routingKey: "k",
      prefetchCount: 50,
    });
    consumer.registerCallback(async (data, message) => {
      consumedIds.add(data.id);
      if (confirmedIds.size === MESSAGES && [...confirmedIds].every((id) => consumedIds.has(id)))
        allConsumed.resolve();
      try {
        await message.ack();
      } catch (error) {
        // The cut came before RabbitMQ answered: it may or may not have the ack, and
        // redelivers the message if not.
        if (error instanceof ConnectionLostError) return;
        throw error;
      }
      // Resolved: RabbitMQ processed the ack, so this message must never come back.
      const messageId = message.properties.messageId!;
      ackedByMessageId.set(messageId, (ackedByMessageId.get(messageId) ?? 0) + 1);
    });
    await consumer.declare();
    const waiting = consumer.wait();

    const publisher = new Publisher<{ id: number }>(publishing, {
      exchange,
      routingKey: "k",
      sendTimeout: 10_000,
    });
    let attempts = 0;
    const cuts = [...CUTS_AT];
    async function sendConfirmed(id: number): Promise<void> {
      for (;;) {
        try {
          await publisher.send({ id }, { messageId: `${id}-${attempts++}` });
          confirmedIds.add(id);
          if (cuts.length > 0 && confirmedIds.size >= cuts[0]!) {
            cuts.shift();
            proxy.cutAll();
          }
          return;
        } catch (error) {
          // Not known to be on the broker: send again (a duplicate is allowed, a loss is not).
          const retry =
            error instanceof PublishOutcomeUnknownError ||
            error instanceof ConnectionLostError ||
            error instanceof PublishTimeoutError;
          if (!retry) throw error;
        }
      }
    }
    const ids = Array.from({ length: MESSAGES }, (_, i) => i);
    const lanes = 20;
    await within(
      Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let i = lane; i < MESSAGES; i += lanes) await sendConfirmed(ids[i]!);
        }),
      ),
      60_000,
      "every send to be confirmed",
    );
    expect(cuts).toEqual([]);
    if ([...confirmedIds].every((id) => consumedIds.has(id))) allConsumed.resolve();
    await within(allConsumed.promise, 60_000, "every confirmed message to be consumed");

    expect(confirmedIds.size).toBe(MESSAGES);
    const twice = [...ackedByMessageId].filter(([, count]) => count > 1);
    expect(twice).toEqual([]);
    expect(proxy.accepted).toBeGreaterThanOrEqual(2 + 2 * CUTS_AT.length);

    await consumer.close();
    await waiting;
    await consuming.deleteQueue(queue);
    await consuming.deleteExchange(exchange);
  });
});
