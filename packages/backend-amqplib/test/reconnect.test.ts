import { Connection, ConnectionLostError, Consumer, Publisher } from "@carrot/core";
import type { BackendEvents } from "@carrot/core/backend";
import { afterEach, describe, expect, it } from "vitest";
import { AMQP_URL, deferred, rawConnection, unique, within } from "./support/broker.js";
import { FaultProxy } from "./support/fault-proxy.js";

const broker = new URL(AMQP_URL);
const FAST = { initialDelay: 10, maxDelay: 100 };

/** Resolves with the next `event` of the connection. */
function next<E extends keyof BackendEvents>(
  connection: Connection,
  event: E,
): Promise<BackendEvents[E]> {
  const { promise, resolve } = deferred<BackendEvents[E]>();
  const listener = (payload: BackendEvents[E]) => {
    connection.off(event, listener);
    resolve(payload);
  };
  connection.on(event, listener);
  return within(promise, 15_000, `the '${event}' event`);
}

describe("reconnection and recovery", () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  async function proxied(options: Record<string, unknown> = {}) {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    const connection = new Connection({ url: proxy.url, reconnect: FAST, ...options });
    open.push(proxy, connection);
    await connection.connect();
    return { proxy, connection };
  }

  it("recovers exchanges, queues (exclusive ones too), bindings and consumers after a cut", async () => {
    const { proxy, connection } = await proxied();
    const exchange = unique("rx");
    const queue = unique("rq");
    const consumer = new Consumer<string>(connection, {
      queue,
      exchange,
      exchangeType: "topic",
      routingKey: "a.#",
      durable: false,
      exclusive: true,
    });
    const received: string[] = [];
    let arrived = deferred();
    consumer.registerCallback(async (data, message) => {
      received.push(data);
      await message.ack();
      arrived.resolve();
    });
    await consumer.declare();
    const waiting = consumer.wait();
    const direct = new Connection(AMQP_URL);
    open.push(direct);
    const publisher = new Publisher<string>(direct, {
      exchange,
      exchangeType: "topic",
      durable: false,
      routingKey: "a.b",
    });
    await publisher.send("before");
    await within(arrived.promise, 10_000, "the first message");

    const events: string[] = [];
    connection.on("disconnect", () => events.push("disconnect"));
    connection.on("connect", () => events.push("connect"));
    const reconnected = next(connection, "reconnect");
    proxy.cutAll();
    const { attempt } = await reconnected;
    expect(attempt).toBeGreaterThanOrEqual(1);
    expect(events).toEqual(["disconnect", "connect"]);

    // The exclusive queue died with the old connection: it was declared again, bound, and consumed.
    arrived = deferred();
    await publisher.send("after");
    await within(arrived.promise, 10_000, "the message after the reconnect");
    expect(received).toEqual(["before", "after"]);
    await consumer.close();
    await waiting;
    await direct.deleteExchange(exchange);
  });

  it("does not bring back what was deleted", async () => {
    const { proxy, connection } = await proxied();
    const kept = unique("kept");
    const deleted = unique("deleted");
    await connection.declareQueue({ name: kept, durable: false, autoDelete: false });
    await connection.declareQueue({ name: deleted, durable: false, autoDelete: false });
    await connection.deleteQueue(deleted);
    const raw = await rawConnection();
    open.push(raw);
    await raw.createChannel().then((channel) => channel.deleteQueue(kept));
    const reconnected = next(connection, "reconnect");
    proxy.cutAll();
    await reconnected;
    const channel = await raw.createChannel();
    await channel.checkQueue(kept);
    channel.on("error", () => {});
    await expect(channel.checkQueue(deleted)).rejects.toThrow(/NOT_FOUND/);
    await connection.deleteQueue(kept);
  });

  it("sends made while disconnected wait for the reconnect", async () => {
    const { proxy, connection } = await proxied();
    const queue = unique("offline");
    await connection.declareQueue({ name: queue, durable: false });
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    proxy.refuse();
    const down = next(connection, "disconnect");
    proxy.cutAll();
    await down;
    const sends = Array.from({ length: 10 }, (_, i) => publisher.send(i));
    const failedAttempt = next(connection, "error");
    await failedAttempt; // at least one reconnect attempt was refused meanwhile
    proxy.refuse(false);
    await within(Promise.all(sends), 15_000, "the sends");
    expect(await connection.purgeQueue(queue)).toBe(10);
    await connection.deleteQueue(queue);
  });

  it("sends fail with ConnectionLostError when the broker stays away longer than reconnectWait", async () => {
    const { proxy, connection } = await proxied({ transportOptions: { reconnectWait: 200 } });
    const queue = unique("gone");
    await connection.declareQueue({ name: queue, durable: false });
    const publisher = new Publisher(connection, { exchange: "", routingKey: queue });
    proxy.refuse();
    const down = next(connection, "disconnect");
    proxy.cutAll();
    await down;
    await expect(publisher.send("lost?")).rejects.toThrow(ConnectionLostError);
    proxy.refuse(false);
    await next(connection, "reconnect");
    await publisher.send("back");
    expect(await connection.purgeQueue(queue)).toBe(1);
    await connection.deleteQueue(queue);
  });

  it("notices a stalled network through heartbeats and reconnects", async () => {
    const { proxy, connection } = await proxied({ heartbeat: 1 });
    const down = next(connection, "disconnect");
    proxy.stall();
    // Whichever side misses the heartbeats first ends it: the client ("Heartbeat timeout")
    // or the broker, whose close the proxy passes on.
    const { error } = await down;
    expect(error).toBeInstanceOf(Error);
    proxy.cutAll();
    proxy.stall(false);
    await next(connection, "reconnect");
    await connection.declareQueue({ name: unique("alive"), durable: false, autoDelete: true });
  });
});
