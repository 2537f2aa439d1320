import { createServer } from "node:net";
import { inspect } from "node:util";
import {
  AuthenticationError,
  CarrotError,
  Connection,
  ConnectionError,
  Consumer,
  Publisher,
} from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leaks, recordShown } from "../../core/test/support/secret-leaks.js";
import { redisBackend } from "../src/index.js";
import { clusterNodes, clusterWanted } from "./support/cluster.js";
import { REDIS_URL, rawRedis, removeKeys, unique, uniquePrefix } from "./support/redis.js";

// Long enough that a stray match is no accident, in base64 too.
const PASSWORD = "s3cret-Pa55word-redis-7f3a";
const TOKEN = "t0ken-as-user-name-9c1e";
const QUERY_SECRET = "query-s3cret-value-4b2d";
const SECRETS = [PASSWORD, TOKEN, QUERY_SECRET];

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The connect error, and everything shown meanwhile, checked for every secret. */
async function connectFailure(url: string, cluster = false): Promise<CarrotError> {
  // Core reads one host per URL: a multi-node cluster URL goes with the backend given.
  const backend = cluster ? { backend: redisBackend } : {};
  const connection = new Connection({ url, connectTimeout: 2_000, reconnect: false, ...backend });
  const recording = recordShown(connection);
  const error = await connection.connect().then(
    () => undefined,
    (failure: unknown) => failure,
  );
  await connection.close();
  const shown = recording.stop();
  expect(error).toBeInstanceOf(CarrotError);
  expect(leaks([error, ...shown, String(connection), inspect(connection)], SECRETS)).toEqual([]);
  return error as CarrotError;
}

describe("no secret in what the redis backend shows", () => {
  const user = unique("carrot-secrets");
  const prefix = uniquePrefix();
  const admin = rawRedis();
  const host = new URL(REDIS_URL).host;
  beforeAll(async () => {
    await admin.call("ACL", "SETUSER", user, "on", `>${PASSWORD}`, "~*", "&*", "+@all");
  });
  afterAll(async () => {
    await admin.call("ACL", "DELUSER", user);
    await removeKeys(prefix);
    admin.disconnect();
  });

  it("a wrong password: an AuthenticationError with Redis's code, not ioredis's failed HELLO", async () => {
    const error = await connectFailure(`redis://${user}:wrong-${PASSWORD}@${host}/0`);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.clientCode).toBe("WRONGPASS");
    expect((error.cause as Error).name).toBe("ReplyError");
  });

  it("a user name that comes alone (a token), and an unreachable host", async () => {
    const port = await closedPort();
    for (const url of [
      `redis://${TOKEN}@127.0.0.1:${port}/0`,
      `redis://:${PASSWORD}@127.0.0.1:${port}/0?prefix=${prefix}`,
    ]) {
      const error = await connectFailure(url);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.clientCode).toBe("ECONNREFUSED");
    }
  });

  it("a secret query parameter", async () => {
    await connectFailure(`redis://${user}:${PASSWORD}@127.0.0.1:1/0?token=${QUERY_SECRET}`);
  });

  it("a password changed under a live connection: the reconnect's refusal and the failed ack", async () => {
    const connection = new Connection({
      url: `redis://${user}:${PASSWORD}@${host}/0?prefix=${prefix}`,
      reconnect: { initialDelay: 10, maxDelay: 20, maxAttempts: 2 },
    });
    const recording = recordShown(connection);
    const queue = unique("secrets");
    const consumer = new Consumer(connection, { queue });
    await consumer.declare();
    await new Publisher(connection).send("held", { routingKey: queue });
    const message = await consumer.fetch();
    expect(message).not.toBeNull();

    const refused = new Promise<Error>((resolve) =>
      connection.on("error", ({ error }) => {
        if (error instanceof AuthenticationError) resolve(error);
      }),
    );
    await admin.call("ACL", "SETUSER", user, "resetpass", `>other-${PASSWORD}`);
    await admin.call("CLIENT", "KILL", "USER", user);
    const reconnectError = await refused;
    const ackError = await message!.ack().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    await connection.close();
    const shown = recording.stop();

    expect((reconnectError as AuthenticationError).clientCode).toBe("WRONGPASS");
    expect(ackError).toBeInstanceOf(ConnectionError);
    expect(leaks([ackError, reconnectError, ...shown, inspect(connection)], SECRETS)).toEqual([]);
    await admin.call("ACL", "SETUSER", user, "resetpass", `>${PASSWORD}`);
  });

  it("a Redis Cluster URL: credentials and secret query values, over every seed node unreachable", async () => {
    const [one, two] = [await closedPort(), await closedPort()];
    for (const url of [
      `redis+cluster://${user}:${PASSWORD}@127.0.0.1:${one},127.0.0.1:${two}/?token=${QUERY_SECRET}`,
      `rediss+cluster://${TOKEN}@127.0.0.1:${one},127.0.0.1:${two}`,
      `redis+cluster://:${PASSWORD}@127.0.0.1:${one},127.0.0.1:x`,
    ]) {
      await connectFailure(url, true);
    }
  });

  it.skipIf(!clusterWanted)("a password a Redis Cluster's nodes refuse", async () => {
    const seeds = clusterWanted ? clusterNodes() : [];
    const nodes = seeds.map(({ host, port }) => `${host}:${port}`).join(",");
    await connectFailure(`redis+cluster://${user}:${PASSWORD}@${nodes}`, true);
  });
});
