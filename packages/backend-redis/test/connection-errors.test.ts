import { createServer, type Server } from "node:net";
import { connectFailure } from "@carrot/conformance";
import {
  AuthenticationError,
  Connection,
  ConnectionError,
  ConnectTimeoutError,
  InvalidOptionsError,
} from "@carrot/core";
import { ReplyError } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandError } from "../src/connection-errors.js";
import { REDIS_URL, rawRedis, uniquePrefix } from "./support/redis.js";

const SECRET = "s3cret-Pa55word";

const failure = (conn: Connection) => connectFailure(conn, SECRET);

describe("connect errors", () => {
  const user = uniquePrefix();
  const admin = rawRedis();
  const host = new URL(REDIS_URL).host;
  beforeAll(async () => {
    await admin.call("ACL", "SETUSER", user, "on", `>right-${SECRET}`, "~*", "+@all");
  });
  afterAll(async () => {
    await admin.call("ACL", "DELUSER", user);
    admin.disconnect();
  });

  it("a wrong password is an AuthenticationError that never shows the password", async () => {
    const error = await failure(new Connection(`redis://${user}:${SECRET}@${host}`));
    expect(error).toBeInstanceOf(AuthenticationError);
  });

  it("the right ACL user and password connect", async () => {
    const conn = new Connection(`redis://${user}:right-${SECRET}@${host}/0`);
    await conn.connect();
    await conn.close();
  });

  it("a closed port is a ConnectionError", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const error = await failure(new Connection(`redis://:${SECRET}@127.0.0.1:${port}`));
    expect(error).toBeInstanceOf(ConnectionError);
  });

  it("a server that never answers is a ConnectTimeoutError within the connect timeout", async () => {
    // Accepts TCP connections and says nothing, as a black-holed Redis would.
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      const error = await failure(
        new Connection({ url: `redis://:${SECRET}@127.0.0.1:${port}`, connectTimeout: 300 }),
      );
      expect(error).toBeInstanceOf(ConnectTimeoutError);
    } finally {
      silent.close();
    }
  });

  it("a bad URL or database is an InvalidOptionsError without the password", async () => {
    for (const url of [
      `redis://u:${SECRET}@${host}/not-a-db`,
      `redis://u:${SECRET}@${host}/0?visibilityTimeout=-1`,
    ]) {
      const error = await failure(new Connection(url));
      expect(error).toBeInstanceOf(InvalidOptionsError);
    }
  });
});

describe("a Redis Cluster node reached as one Redis", () => {
  it("a MOVED reply becomes an InvalidOptionsError naming redis+cluster://, not ioredis's raw reply", () => {
    const moved = new ReplyError("MOVED 7687 127.0.0.1:7102");
    const error = commandError(moved, "declare queue 'q'");
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error.message).toMatch(/MOVED 7687 .*connect with redis\+cluster:\/\//);
    expect(error.clientCode).toBe("MOVED");
  });
});
