import { connectFailure } from "@carrot/conformance";
import {
  AuthenticationError,
  Connection,
  ConnectionError,
  InvalidOptionsError,
  NotFoundError,
} from "@carrot/core";
import { afterAll, describe, expect, it } from "vitest";
import { SqsBackend, sqsBackend } from "../src/index.js";
import { connectSqs, deleteQueues, sqsEndpoint, uniquePrefix } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

describe("errors", () => {
  it("an unreachable endpoint fails connect with a ConnectionError within the connect timeout, and reports no disconnect", async () => {
    const conn = new Connection({
      url: "sqs://?region=us-east-1&endpoint=http://127.0.0.1:1",
      backend: sqsBackend,
      connectTimeout: 3_000,
    });
    // The reachability watch sees the probe's failed attempts: a connection that never opened was never up.
    const events: string[] = [];
    for (const name of ["connect", "disconnect", "reconnect"] as const)
      conn.on(name, () => events.push(name));
    const error = await conn.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain("127.0.0.1:1");
    await conn.close();
    expect(events).toEqual([]);
  });

  it("a region that does not exist fails connect with a ConnectionError within the connect timeout", async () => {
    const conn = new Connection({
      url: "sqs://no-such-region-9",
      backend: sqsBackend,
      connectTimeout: 3_000,
    });
    await expect(conn.connect()).rejects.toBeInstanceOf(ConnectionError);
    await conn.close();
  });

  it("missing credentials fail connect with an AuthenticationError that says where they come from", async () => {
    const saved = { ...process.env };
    for (const key of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_PROFILE",
    ])
      delete process.env[key];
    process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/carrot-credentials";
    process.env.AWS_CONFIG_FILE = "/nonexistent/carrot-config";
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    try {
      const backend = new SqsBackend({
        region: "us-east-1",
        endpoint: sqsEndpoint(),
        connectTimeout: 5_000,
      });
      const error = await backend.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message).toMatch(/provider chain/);
      await backend.close();
    } finally {
      process.env = saved;
    }
  });

  it("credentials in the URL, unknown options and a bad prefix are InvalidOptionsError", async () => {
    for (const url of [
      `sqs://key:secret@us-east-1?endpoint=${sqsEndpoint()}`,
      `sqs://us-east-1?endpoint=${sqsEndpoint()}&colour=blue`,
      `sqs://us-east-1?endpoint=${sqsEndpoint()}&prefix=bad.prefix`,
      `sqs://us-east-1?endpoint=${sqsEndpoint()}&waitTimeSeconds=21`,
    ]) {
      const error = await connectFailure(new Connection({ url, backend: sqsBackend }), "secret");
      expect(error).toBeInstanceOf(InvalidOptionsError);
    }
  });

  it("a queue name that cannot be mapped is an InvalidOptionsError; a missing queue a NotFoundError", async () => {
    const { conn } = await connectSqs(prefix);
    await expect(conn.declareQueue({ name: "" })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(conn.declareQueue({ name: ".fifo" })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(conn.purgeQueue("never-declared")).rejects.toBeInstanceOf(NotFoundError);
    // An SQS attribute out of range is refused by SQS: the caller's to fix.
    await expect(
      conn.declareQueue({
        name: "bad-attribute",
        arguments: { "x-sqs-VisibilityTimeout": 99_999 },
      }),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(
      conn.bindQueue({ queue: "never-declared", exchange: "nope", routingKey: "" }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await conn.close();
  });
});
