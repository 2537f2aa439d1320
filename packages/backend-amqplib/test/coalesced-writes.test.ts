import { EventEmitter, once } from "node:events";
import {
  type AddressInfo,
  createServer,
  Socket as NetSocket,
  type Socket,
  connect as tcpConnect,
} from "node:net";
import type { ChannelModel } from "amqplib";
import { afterEach, describe, expect, it } from "vitest";
import { coalesceWrites } from "../src/coalesced-writes.js";
import { rawConnection } from "./support/broker.js";

describe("coalesced socket writes", () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const done of cleanup.splice(0)) done();
  });

  /** A client socket, and a promise of the first `length` characters its server receives. */
  async function socketPair(): Promise<{
    client: Socket;
    received: (length: number) => Promise<string>;
  }> {
    let text = "";
    const arrived = new EventEmitter();
    const server = createServer((peer) =>
      peer.on("data", (chunk) => {
        text += chunk;
        arrived.emit("data");
      }),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const client = tcpConnect((server.address() as AddressInfo).port, "127.0.0.1");
    await once(client, "connect");
    cleanup.push(() => {
      client.destroy();
      server.close();
    });
    const received = async (length: number) => {
      while (text.length < length) await once(arrived, "data");
      return text;
    };
    return { client, received };
  }

  it("corks at the first write of a tick and uncorks at its end; every byte arrives", async () => {
    const { client, received } = await socketPair();
    coalesceWrites({ connection: { stream: client } } as unknown as ChannelModel);
    client.write("a");
    client.write("b");
    expect(client.writableCorked).toBe(1);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(client.writableCorked).toBe(0);
    client.write("c");
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.writableCorked).toBe(0);
    expect(await received(3)).toBe("abc");
  });

  it("finds amqplib's socket where it looks for it (caught here if an amqplib upgrade moves it)", async () => {
    const model = await rawConnection();
    try {
      const socket = (model.connection as unknown as { stream?: Socket }).stream;
      expect(socket).toBeInstanceOf(NetSocket);
      coalesceWrites(model);
      expect(socket!.write).not.toBe(NetSocket.prototype.write);
    } finally {
      await model.close();
    }
  });

  it("leaves a connection without a stream alone", () => {
    expect(() => coalesceWrites({ connection: {} } as unknown as ChannelModel)).not.toThrow();
  });
});
