import { connectFailure } from "@carrot/conformance";
import {
  AuthenticationError,
  Connection,
  ConnectionError,
  ConnectTimeoutError,
  InvalidOptionsError,
} from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { AmqplibBackend } from "../src/index.js";
import { AMQP_URL, within } from "./support/broker.js";
import { FaultProxy } from "./support/fault-proxy.js";

const SECRET = "s3cr3t-Pa55";
const broker = new URL(AMQP_URL);

/** The connect error, with the password shown nowhere in it. */
const failure = (connection: Connection) => connectFailure(connection, SECRET);

describe("connection errors", () => {
  const proxies: FaultProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });

  it("wrong credentials fail with AuthenticationError, without the password", async () => {
    const error = await failure(new Connection(`amqp://guest:${SECRET}@${broker.host}`));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toContain("ACCESS_REFUSED");
    expect(error.message).toContain("'guest'");
  });

  it("wrong credentials in the object form fail the same way", async () => {
    const error = await failure(
      new Connection({
        hostname: broker.hostname,
        port: Number(broker.port),
        userid: "nobody",
        password: SECRET,
      }),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
  });

  it("an unknown vhost fails with AuthenticationError naming the vhost", async () => {
    const error = await failure(
      new Connection(`amqp://guest:guest@${broker.host}/no-such-vhost%2Fhere`),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toContain("'no-such-vhost/here'");
  });

  it("an unreachable port fails with ConnectionError", async () => {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    proxies.push(proxy);
    const port = proxy.port;
    await proxy.close(); // nothing listens there any more
    const error = await failure(new Connection(`amqp://guest:${SECRET}@127.0.0.1:${port}`));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("a broker that accepts TCP but never answers fails with ConnectTimeoutError within the timeout", async () => {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    proxies.push(proxy);
    proxy.stall();
    const connection = new Connection({
      url: `amqp://guest:${SECRET}@127.0.0.1:${proxy.port}`,
      connectTimeout: 300,
    });
    const error = await within(failure(connection), 5_000, "the connect timeout");
    expect(error).toBeInstanceOf(ConnectTimeoutError);
  });

  it("malformed URLs fail with InvalidOptionsError, without the password", async () => {
    for (const url of [
      `amqp://guest:${SECRET}@127.0.0.1:5672/a/b`,
      `amqp://guest:${SECRET}@127.0.0.1:5672/?heartbeat=soon`,
    ]) {
      const error = await failure(new Connection(url));
      expect(error).toBeInstanceOf(InvalidOptionsError);
    }
    expect(() => new Connection(`amqp://guest:${SECRET}@[::1`)).toThrow(InvalidOptionsError);
  });

  it("fails over to an alternate host when the first refuses", async () => {
    const dead = await FaultProxy.start(broker.hostname, Number(broker.port));
    proxies.push(dead);
    const deadPort = dead.port;
    await dead.close();
    const connection = new Connection({
      url: `amqp://guest:guest@127.0.0.1:${deadPort}`,
      alternates: [AMQP_URL],
    });
    const hosts: string[] = [];
    connection.on("connect", ({ host }) => hosts.push(host));
    await connection.connect();
    expect(hosts).toEqual([`${broker.hostname}:${broker.port}`]);
    await connection.close();
  });

  it("names the connection and sets TCP_NODELAY-friendly options without failing", async () => {
    const connection = new Connection({
      url: AMQP_URL,
      connectionName: "carrot-test-name",
      heartbeat: 5,
    });
    await connection.connect();
    expect(connection.backend).toBeInstanceOf(AmqplibBackend);
    expect((connection.backend as AmqplibBackend).serverVersion).toMatch(/^\d+\./);
    expect(String(connection)).not.toContain("guest:guest");
    await connection.close();
  });
});
