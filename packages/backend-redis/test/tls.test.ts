import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@carrot/conformance";
import { Connection, ConnectionError } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectFailure, expectRoundTrip, uniquePrefix } from "./support/redis.js";
import { type RedisServer, startRedisServer } from "./support/redis-server.js";

// rediss:// against a TLS-only redis-server of this test's own, with a CA and
// a server certificate made here by openssl (the machine's).

const run = promisify(execFile);
const SECRET = "tls-Pa55word";

/** A CA, and a certificate it signed for 127.0.0.1, in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=carrot-test-ca",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  );
  await openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  );
  await writeFile(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  await openssl(
    "x509",
    "-req",
    "-days",
    "1",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-extfile",
    "san.cnf",
    "-out",
    "server.crt",
  );
}

describe("TLS (rediss://)", () => {
  let dir: string;
  let server: RedisServer;
  let port: number;
  let ca: Buffer;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "carrot-redis-tls-"));
    await makeCertificates(dir);
    ca = await readFile(join(dir, "ca.crt"));
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
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const failure = (conn: Connection) => connectFailure(conn, SECRET);

  it("carries a message over rediss:// when the server's CA is given", async () => {
    const conn = new Connection({
      url: `rediss://:${SECRET}@127.0.0.1:${port}/0?prefix=${prefix}`,
      tls: { ca },
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
