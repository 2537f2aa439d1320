import { Connection, Consumer, type Message, Publisher } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { redisUrl, removeKeys, unique, uniquePrefix } from "./support/redis.js";

describe("closing a connection", () => {
  const prefix = uniquePrefix();
  // A visibility timeout far beyond the test: what comes back came back because of close.
  const url = redisUrl(prefix, { visibilityTimeout: 600_000 });
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await removeKeys(prefix);
  });

  it("sends the settles already asked for, and returns only the unsettled messages", async () => {
    const queue = unique("close");
    const main = new Connection(url);
    const other = new Connection(url);
    open.push(main);
    await new Consumer(main, { queue }).declare();
    const publisher = new Publisher(main, { routingKey: queue });
    for (const payload of ["acked", "left"]) await publisher.send(payload);

    const fetching = new Consumer<string>(other, { queue });
    const acked = (await fetching.fetch()) as Message<string>;
    const left = (await fetching.fetch()) as Message<string>;
    expect([acked.payload, left.payload]).toEqual(["acked", "left"]);
    // Not awaited: close must send it rather than hand the message back.
    const ack = acked.ack();
    await other.close();
    await ack;

    const again = new Consumer<string>(main, { queue });
    const back: Message<string>[] = [];
    for (let m = await again.fetch(); m; m = await again.fetch()) back.push(m);
    expect(back.map((m) => [m.payload, m.deliveryInfo.redelivered])).toEqual([["left", true]]);
    await Promise.all(back.map((m) => m.ack()));
  });

  it("sends the publishes of the turn it was called in before it quits", async () => {
    const queue = unique("close-sends");
    const main = new Connection(url);
    await new Consumer(main, { queue }).declare();
    const publisher = new Publisher(main, { routingKey: queue });
    await publisher.send("ready"); // from now on a send reaches the backend in its own turn
    const sends = ["a", "b", "c"].map((payload) => publisher.send(payload));
    await main.close();
    await Promise.all(sends);

    const other = new Connection(url);
    open.push(other);
    const reading = new Consumer<string>(other, { queue });
    const stored: string[] = [];
    for (let m = await reading.fetch(); m; m = await reading.fetch()) {
      stored.push(m.payload);
      await m.ack();
    }
    expect(stored).toEqual(["ready", "a", "b", "c"]);
  });
});
