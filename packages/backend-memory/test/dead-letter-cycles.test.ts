import { newHeaders } from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import { MemoryBackend, MemoryBroker } from "../src/index.js";

// A queue whose dead letters come back to it: RabbitMQ drops an expired or
// overflowing message instead of passing it round for ever (on memory,
// where routing is synchronous, "for ever" was a stack overflow).

async function loopingQueue(args: { maxLength?: number; messageTtl?: number }) {
  const backend = new MemoryBackend({ broker: new MemoryBroker() });
  await backend.connect();
  await backend.declareExchange({
    name: "loop",
    type: "direct",
    durable: false,
    autoDelete: false,
  });
  await backend.declareQueue({
    name: "q",
    durable: false,
    exclusive: false,
    autoDelete: false,
    arguments: { ...args, deadLetterExchange: "loop", deadLetterRoutingKey: "q" },
  });
  await backend.bindQueue({ queue: "q", exchange: "loop", routingKey: "q" });
  const publish = (text: string) =>
    backend.publish({
      exchange: "loop",
      routingKey: "q",
      mandatory: false,
      message: { body: Buffer.from(text), headers: newHeaders(), properties: {} },
    });
  return { backend, publish };
}

describe("dead letters that come back to their own queue", () => {
  it("an overflowing queue drops its oldest message instead of taking it back", async () => {
    const { backend, publish } = await loopingQueue({ maxLength: 1 });
    await publish("first");
    await publish("second");
    const delivery = await backend.get("q", { noAck: true });
    expect(Buffer.from(delivery!.message.body).toString()).toBe("second");
    expect(await backend.get("q", { noAck: true })).toBeNull();
    await backend.close();
  });

  it("a rejected message goes round again, its x-death counting the deaths", async () => {
    const { backend, publish } = await loopingQueue({});
    await publish("again");
    for (let round = 1; round <= 3; round++) {
      const delivery = await backend.get("q", { noAck: false });
      const deaths = delivery!.message.headers["x-death"] as { count: number }[] | undefined;
      expect(deaths?.[0]?.count).toBe(round === 1 ? undefined : round - 1);
      await delivery!.reject(false);
    }
    await backend.close();
  });
});
