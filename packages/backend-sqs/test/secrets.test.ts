import { createServer, request, type Server } from "node:http";
import { inspect } from "node:util";
import {
  AuthenticationError,
  CarrotError,
  Connection,
  ConnectionError,
  ConnectionLostError,
  Consumer,
  NotFoundError,
  Publisher,
} from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { leaks, recordShown } from "../../core/test/support/secret-leaks.js";
import { SqsBackend, sqsBackend } from "../src/index.js";
import { deleteQueues, sqsEndpoint, uniquePrefix } from "./sqs-test-env.js";

// Long enough that a stray match is no accident, in base64 too.
const CREDENTIALS = {
  accessKeyId: "AKIDCARROTSECRETS",
  secretAccessKey: "s3cret-access-key-sqs-2c9e",
  sessionToken: "s3ssion-t0ken-sqs-8a41",
};
const PASSWORD = "s3cret-Pa55word-sqs-e5d0";
const QUERY_SECRET = "query-s3cret-value-sqs-71b3";
const SECRETS = [CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken, PASSWORD, QUERY_SECRET];

type Mode = "pass" | "reset" | "refuse";

/**
 * An HTTP proxy in front of the emulator that can cut every request
 * (`reset`) or refuse it as SQS refuses a bad signature (`refuse`): a 403
 * whose message quotes the canonical request, session token included, as
 * AWS's does.
 */
async function sqsProxy(): Promise<{ endpoint: string; mode: Mode; close(): Promise<void> }> {
  const target = new URL(sqsEndpoint());
  const proxy = {
    endpoint: "",
    mode: "pass" as Mode,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    if (proxy.mode === "reset") return req.socket.destroy();
    if (proxy.mode === "refuse") {
      res.writeHead(403, {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-query-error": "SignatureDoesNotMatch;Sender",
      });
      return res.end(
        JSON.stringify({
          __type: "com.amazon.coral.service#SignatureDoesNotMatch",
          message: `The request signature we calculated does not match the signature you provided. The Canonical String for this request should have been 'POST\n/\n\nx-amz-security-token:${req.headers["x-amz-security-token"]}\n'`,
        }),
      );
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 1; // a cut must reach the pooled connections too
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}

function connection(endpoint: string, prefix: string): Connection {
  const query = new URLSearchParams({ region: "us-east-1", endpoint, prefix });
  return new Connection({
    url: `sqs://?${query}`,
    backend: sqsBackend,
    connectTimeout: 3_000,
    transportOptions: { credentials: CREDENTIALS },
  });
}

/** What `work` rejects with, and everything shown meanwhile, checked for every secret. */
async function failure(conn: Connection, work: () => Promise<unknown>): Promise<CarrotError> {
  const recording = recordShown(conn);
  const error = await work().then(
    () => undefined,
    (failed: unknown) => failed,
  );
  const shown = recording.stop();
  expect(error).toBeInstanceOf(CarrotError);
  expect(leaks([error, ...shown, String(conn), inspect(conn)], SECRETS)).toEqual([]);
  return error as CarrotError;
}

describe("no secret in what the SQS backend shows", () => {
  const prefix = uniquePrefix();
  afterAll(() => deleteQueues(prefix));

  it("a refused signature: an AuthenticationError without the session token SQS quoted", async () => {
    const proxy = await sqsProxy();
    proxy.mode = "refuse";
    const conn = connection(proxy.endpoint, prefix);
    const error = await failure(conn, () => conn.connect());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.clientCode).toBe("SignatureDoesNotMatch");
    await conn.close();
    await proxy.close();
  });

  it("an unreachable endpoint with credentials and a secret in its URL", async () => {
    const endpoint = `http://carrot:${PASSWORD}@127.0.0.1:1/?token=${QUERY_SECRET}`;
    const conn = connection(endpoint, prefix);
    const error = await failure(conn, () => conn.connect());
    expect(error).toBeInstanceOf(ConnectionError);
    await conn.close();
  });

  it("acks that fail, on a cut connection and on a refusal, are carrot errors with the client's code", async () => {
    const proxy = await sqsProxy();
    const conn = connection(proxy.endpoint, prefix);
    const consumer = new Consumer(conn, { queue: "secrets" });
    await consumer.declare();
    const publisher = new Publisher(conn, { routingKey: "secrets" });
    await publisher.send("first");
    await publisher.send("second");
    const [first, second] = [await consumer.fetch(), await consumer.fetch()];

    proxy.mode = "reset";
    const lost = await failure(conn, () => first!.ack());
    expect(lost).toBeInstanceOf(ConnectionError);
    expect(lost.clientCode).toBeDefined();

    proxy.mode = "refuse";
    const refused = await failure(conn, () => second!.ack());
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(refused.clientCode).toBe("SignatureDoesNotMatch");

    proxy.mode = "pass";
    await conn.close();
    await proxy.close();
  });

  it("a missing queue, and exchanges looked up on a cut connection: carrot errors, the SDK's as copies", async () => {
    const proxy = await sqsProxy();
    const conn = connection(proxy.endpoint, prefix);
    const missing = await failure(conn, () => conn.purgeQueue("secrets-missing"));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.cause).not.toHaveProperty("$metadata");

    proxy.mode = "reset";
    const binding = { queue: "secrets-missing", exchange: "secrets-x", routingKey: "#" };
    for (const work of [
      () => conn.declareExchange({ name: "secrets-x", type: "topic" }),
      () => conn.bindQueue(binding),
      () => conn.deleteExchange("secrets-x"),
    ]) {
      const lost = await failure(conn, work);
      expect(lost).toBeInstanceOf(ConnectionError);
      expect(lost.clientCode).toBeDefined();
    }
    proxy.mode = "pass";
    await conn.close();
    await proxy.close();
  });

  it("the backend, inspected or serialized, shows neither its credentials nor its endpoint's", async () => {
    const conn = connection(sqsEndpoint(), prefix);
    await conn.connect();
    const unconnected = new SqsBackend({
      endpoint: `http://carrot:${PASSWORD}@127.0.0.1:1/?token=${QUERY_SECRET}`,
      clientConfig: { credentials: CREDENTIALS },
    });
    expect(leaks([conn.backend, unconnected], SECRETS)).toEqual([]);
    await conn.close();
  });

  it("a disconnect carries a carrot error with the client's code, not the SDK's", async () => {
    const proxy = await sqsProxy();
    const conn = connection(proxy.endpoint, prefix);
    const consumer = new Consumer(conn, { queue: "secrets-disconnect" });
    await consumer.declare();
    const disconnected = new Promise<unknown>((resolve) =>
      conn.on("disconnect", ({ error }) => resolve(error)),
    );
    proxy.mode = "reset";
    await failure(conn, () => consumer.fetch());
    const error = await disconnected;
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect((error as CarrotError).clientCode).toBeDefined();
    expect(leaks([error], SECRETS)).toEqual([]);
    proxy.mode = "pass";
    await conn.close();
    await proxy.close();
  });
});
