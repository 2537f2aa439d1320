import { join } from "node:path";
import {
  connectFailure,
  freePort,
  makeTestCertificates,
  type TestCertificates,
} from "@carrot/conformance";
import { Connection, ConnectionError } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRoundTrip, uniquePrefix } from "./support/redis.js";
import { type RedisServer, startRedisServer } from "./support/redis-server.js";

// rediss:// against a TLS-only redis-server of this test's own, with a CA and
// a server certificate made here by openssl (the machine's).

const SECRET = "tls-Pa55word";

describe("TLS (rediss://)", () => {
  let certificates: TestCertificates;
  let server: RedisServer;
  let port: number;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    certificates = await makeTestCertificates();
    const { dir } = certificates;
    port = await freePort();
    // TLS only (--port 0: no plain listener), in memory, clients need no certificate.
    server = await startRedisServer(
      [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--tls-cert-file",
        join(dir, "server.crt"),
        "--tls-key-file",
        join(dir, "server.key"),
        "--tls-ca-cert-file",
        join(dir, "ca.crt"),
        "--tls-auth-clients",
        "no",
        "--requirepass",
        SECRET,
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      /Ready to accept connections/,
    );
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    await certificates?.remove();
  });

  const failure = (conn: Connection) => connectFailure(conn, SECRET);

  it("carries a message over rediss:// when the server's CA is given", async () => {
    const conn = new Connection({
      url: `rediss://:${SECRET}@127.0.0.1:${port}/0?prefix=${prefix}`,
      tls: { ca: certificates.ca },
    });
    try {
      await expectRoundTrip(conn, "tls", { over: "tls" });
    } finally {
      await conn.close();
    }
  });

  it("refuses a server certificate it cannot verify: a ConnectionError, within the connect timeout", async () => {
    const error = await failure(
      new Connection({
        url: `rediss://:${SECRET}@127.0.0.1:${port}/0?prefix=${prefix}`,
        connectTimeout: 3_000,
      }),
    );
    expect(error).toBeInstanceOf(ConnectionError);
  });

  it("a plain redis:// connection to the TLS port fails with a ConnectionError, never a hang", async () => {
    const error = await failure(
      new Connection({
        url: `redis://:${SECRET}@127.0.0.1:${port}/0?prefix=${prefix}`,
        connectTimeout: 3_000,
      }),
    );
    expect(error).toBeInstanceOf(ConnectionError);
  });
});
