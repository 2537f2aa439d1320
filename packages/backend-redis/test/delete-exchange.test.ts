import { Connection, Consumer, Publisher } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { rawRedis, redisUrl, removeKeys, unique, uniquePrefix } from "./support/redis.js";

describe("deleting an exchange", () => {
  const prefix = uniquePrefix();
  const open: Connection[] = [];
  const connect = () => {
    const conn = new Connection(redisUrl(prefix));
    open.push(conn);
    return conn;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await removeKeys(prefix);
  });

  /** Every key of the prefix whose name holds `name`. */
  async function keysNaming(name: string): Promise<string[]> {
    const redis = rawRedis();
    const found: string[] = [];
    try {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `*${prefix}*`, "COUNT", 1000);
        cursor = next;
        found.push(...keys.filter((key) => key.includes(name)));
      } while (cursor !== "0");
    } finally {
      redis.disconnect();
    }
    return found;
  }

  it("leaves no key of it behind, even after its queue is deleted", async () => {
    const conn = connect();
    const exchange = unique("gone");
    const queue = unique("q");
    await new Consumer(conn, { queue, exchange, routingKey: "k" }).declare();
    await new Publisher(conn, { exchange, routingKey: "k" }).send("routed");
    expect(await keysNaming(exchange)).not.toEqual([]);
    await conn.deleteExchange(exchange);
    await conn.deleteQueue(queue);
    expect(await keysNaming(exchange)).toEqual([]);
  });

  it("declared again, it routes by its new bindings, not a publisher's cached old ones", async () => {
    const exchange = unique("again");
    const [before, after] = [unique("before"), unique("after")];
    const admin = connect();
    await new Consumer(admin, { queue: before, exchange, routingKey: "k" }).declare();
    const publisher = new Publisher<string>(connect(), { exchange, routingKey: "k" });
    await publisher.send("old");
    await admin.deleteExchange(exchange);
    await new Consumer(admin, { queue: after, exchange, routingKey: "k" }).declare();
    await publisher.send("new");
    expect((await new Consumer(admin, { queue: before }).fetch())?.payload).toBe("old");
    expect((await new Consumer(admin, { queue: after }).fetch())?.payload).toBe("new");
  });

  it("a bind or an unbind racing its deletion leaves no version key behind", async () => {
    const admin = connect();
    const other = connect();
    const queue = unique("q");
    await admin.declareQueue({ name: queue });
    // The deletion lands at every point of the bind's round trips, one try each.
    for (let turn = 0; turn < 40; turn++) {
      const exchange = unique("raced");
      await admin.declareExchange({ name: exchange, type: "direct" });
      const binding = { queue, exchange, routingKey: "k" };
      const bind = turn % 2 === 0 ? other.bindQueue(binding) : other.unbindQueue(binding);
      for (let wait = 0; wait < turn / 2; wait++) await new Promise(setImmediate);
      await Promise.allSettled([bind, admin.deleteExchange(exchange)]);
      expect(await keysNaming(`version:${exchange}`)).toEqual([]);
    }
  });
});
