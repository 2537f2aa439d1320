import { randomUUID } from "node:crypto";
import { Connection, Consumer, Publisher, UnroutableError } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryBackend, MemoryBroker } from "../src/index.js";

// The memory broker stores what it is given within the publish call: what it
// keeps must not change when the sender changes its bytes afterwards, and a
// send that fails within the call must fail the send and free its slot.

const open: Connection[] = [];
function connect(): Connection {
  const connection = new Connection(`memory://publish-path-${randomUUID()}`);
  open.push(connection);
  return connection;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe("stored bodies", () => {
  it("keeps its own copy of bytes the sender still holds (pre-encoded data)", async () => {
    const connection = connect();
    const consumer = new Consumer(connection, { queue: "q" });
    await consumer.declare();
    const publisher = new Publisher(connection, { routingKey: "q" });
    const bytes = new Uint8Array([1, 2, 3]);
    await publisher.send(bytes, { contentType: "application/octet-stream" });
    bytes.fill(9);
    const message = await consumer.fetch();
    expect([...(message?.body ?? [])]).toEqual([1, 2, 3]);
  });

  it("copies only bodies core did not make for the request (freshBody)", async () => {
    const seen: { fresh: boolean | undefined; kept: boolean }[] = [];
    class Watching extends MemoryBackend {
      override async publish(request: Parameters<MemoryBackend["publish"]>[0]): Promise<void> {
        await super.publish(request);
        // Taken off the queue at once: each check sees the message just published.
        const queued = this.broker.queue("q", this).take();
        seen.push({
          fresh: request.freshBody,
          kept: queued?.message.body === request.message.body,
        });
      }
    }
    const connection = new Connection({ backend: new Watching({ broker: new MemoryBroker() }) });
    open.push(connection);
    await new Consumer(connection, { queue: "q" }).declare();
    const publisher = new Publisher(connection, { routingKey: "q" });
    await publisher.send({ n: 1 });
    await publisher.send("text", { contentType: "text/plain" });
    await publisher.send(new Uint8Array([1]), { contentType: "application/octet-stream" });
    await publisher.send(new Uint8Array([1]), { serializer: "binary" });
    expect(seen).toEqual([
      { fresh: true, kept: true },
      { fresh: true, kept: true },
      { fresh: undefined, kept: false },
      { fresh: undefined, kept: false },
    ]);
  });
});

describe("a publish that fails within the call", () => {
  it("rejects the send and frees its slot", async () => {
    const connection = connect();
    await new Consumer(connection, { queue: "q" }).declare();
    const publisher = new Publisher(connection, {
      exchange: "",
      routingKey: "nowhere",
      mandatory: true,
      maxInFlight: 1,
    });
    await expect(publisher.send("a")).rejects.toBeInstanceOf(UnroutableError);
    await expect(publisher.send("b")).rejects.toBeInstanceOf(UnroutableError);
    await publisher.send("c", { routingKey: "q" });
    expect(await connection.purgeQueue("q")).toBe(1);
  });
});
