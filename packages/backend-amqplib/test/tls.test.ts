import { once } from "node:events";
import { connect as connectTcp, type Socket } from "node:net";
import { createServer, type Server } from "node:tls";
import { connectFailure, makeTestCertificates, type TestCertificates } from "@carrot/conformance";
import { Connection, ConnectionError, Consumer, Publisher } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL, unique } from "./support/broker.js";

// amqps:// through a TLS port of this test's own in front of the test
// RabbitMQ (TLS ends there, as at a load balancer), with a CA and a server
// certificate made here by openssl (the machine's).

const SECRET = "tls-Pa55word";
const broker = new URL(AMQP_URL);

/** Ends TLS on 127.0.0.1 and passes the bytes on to the broker. */
async function tlsTerminator(certificates: TestCertificates): Promise<{
  port: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server: Server = createServer(
    { key: certificates.key, cert: certificates.cert },
    (clear) => {
      const upstream = connectTcp(Number(broker.port || 5672), broker.hostname);
      for (const socket of [clear, upstream]) {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => {
          clear.destroy();
          upstream.destroy();
        });
      }
      clear.pipe(upstream).pipe(clear);
    },
  );
  // Handshakes that fail (the cases below make some) are the client's to report.
  server.on("tlsClientError", () => undefined);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return {
    port: address.port,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** The connect error, with the password shown nowhere in it. */
const failure = (connection: Connection) => connectFailure(connection, SECRET);

describe("TLS (amqps://)", () => {
  let certificates: TestCertificates;
  let terminator: Awaited<ReturnType<typeof tlsTerminator>>;

  beforeAll(async () => {
    certificates = await makeTestCertificates();
    terminator = await tlsTerminator(certificates);
  }, 30_000);

  afterAll(async () => {
    await terminator?.close();
    await certificates?.remove();
  });

  it("carries a message over amqps:// when the server's CA is given", async () => {
    const conn = new Connection({
      url: `amqps://${broker.username}:${broker.password}@127.0.0.1:${terminator.port}`,
      tls: { ca: certificates.ca },
    });
    const queue = unique("tls");
    try {
      const consumer = new Consumer<{ over: string }>(conn, { queue, autoDelete: true });
      await consumer.declare();
      await new Publisher(conn, { routingKey: queue }).send({ over: "tls" });
      const message = await consumer.fetch();
      expect(message?.payload).toEqual({ over: "tls" });
      await message?.ack();
      await conn.deleteQueue(queue);
    } finally {
      await conn.close();
    }
  });

  it("refuses a server certificate it cannot verify: a ConnectionError, without the password", async () => {
    const error = await failure(
      new Connection({
        url: `amqps://guest:${SECRET}@127.0.0.1:${terminator.port}`,
        connectTimeout: 3_000,
      }),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/certificate/i);
  });

  it("a plain amqp:// connection to the TLS port fails with a ConnectionError, never a hang", async () => {
    const error = await failure(
      new Connection({
        url: `amqp://guest:${SECRET}@127.0.0.1:${terminator.port}`,
        connectTimeout: 3_000,
      }),
    );
    expect(error).toBeInstanceOf(ConnectionError);
  });
});
