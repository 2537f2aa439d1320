import { execFile } from "node:child_process";
import { inspect, promisify } from "node:util";
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
import { AMQP_URL, deferred, ON_DEFAULT_BROKER, unique, within } from "./support/broker.js";
import { FaultProxy } from "./support/fault-proxy.js";

// Long enough that a stray match is no accident, in base64 too.
const PASSWORD = "s3cret-Pa55word-amqp-5e8d";
const TOKEN = "t0ken-as-user-name-a17c";
const QUERY_SECRET = "query-s3cret-value-0f6b";
const SECRETS = [PASSWORD, TOKEN, QUERY_SECRET];
const broker = new URL(AMQP_URL);

/** The connect error, and everything shown meanwhile, checked for every secret. */
async function connectFailure(url: string): Promise<CarrotError> {
  const connection = new Connection({ url, connectTimeout: 2_000, reconnect: false });
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

const rabbitmqctl = (...args: string[]) => promisify(execFile)("rabbitmqctl", args);

/** What a bare copy of a client's error may hold (see `sanitizedCause`). */
const COPIED = new Set(["name", "message", "stack", "code", "cause"]);

/**
 * Why `error` is not what the backend may hand out: not a carrot error, or
 * a cause in its chain that is amqplib's or Node's error as it was thrown:
 * its own class, fields beyond a copy's (`classId`, `errno`, `address`), or
 * its name on its prototype, where a copy has it as its own.
 */
function rawnessOf(error: unknown): string[] {
  if (!(error instanceof CarrotError)) return [`not a carrot error: ${String(error)}`];
  const raw: string[] = [];
  for (let cause = error.cause, depth = 1; cause instanceof Error; cause = cause.cause, depth++) {
    if (cause instanceof CarrotError) continue;
    const extra = Object.getOwnPropertyNames(cause).filter((name) => !COPIED.has(name));
    const copy = Object.getPrototypeOf(cause) === Error.prototype && Object.hasOwn(cause, "name");
    if (!copy || extra.length > 0) raw.push(`cause ${depth}: ${cause.name} [${extra.join(", ")}]`);
  }
  return raw;
}

/** The errors the recorded events carried. */
function eventErrors(shown: unknown[]): unknown[] {
  return shown.flatMap((payload) => {
    const { error } = (payload ?? {}) as { error?: unknown };
    return error === undefined ? [] : [error];
  });
}

function failureOf(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => "resolved",
    (failure: unknown) => failure,
  );
}

describe("no secret in what the amqplib backend shows", () => {
  const proxies: FaultProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });

  it("a wrong password: an AuthenticationError with the broker's code", async () => {
    const error = await connectFailure(`amqp://guest:${PASSWORD}@${broker.host}`);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.clientCode).toBe("ACCESS_REFUSED");
    expect(error.message).toContain("'guest'");
  });

  it("a user name that comes alone is a token: not named in the refusal", async () => {
    const error = await connectFailure(`amqp://${TOKEN}@${broker.host}`);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toContain("user '***'");
  });

  it("a secret query parameter, and an unreachable host", async () => {
    const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
    const port = proxy.port;
    await proxy.close(); // nothing listens there any more
    const error = await connectFailure(`amqp://guest:${PASSWORD}@127.0.0.1:${port}`);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.clientCode).toBe("ECONNREFUSED");
    await connectFailure(`amqp://guest:${PASSWORD}@127.0.0.1:${port}/?token=${QUERY_SECRET}`);
  });

  // A user of its own, so that the password checked for is one in use; made
  // with rabbitmqctl, so only against the machine's own broker on 5672, which rabbitmqctl manages.
  describe.runIf(ON_DEFAULT_BROKER)("with a user whose password is a secret", () => {
    const user = unique("secrets-user");
    beforeAll(async () => {
      await rabbitmqctl("add_user", user, PASSWORD);
      await rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*");
    }, 30_000);
    afterAll(async () => {
      await rabbitmqctl("delete_user", user);
    }, 30_000);

    it("an ack after the connection was cut fails with a carrot error", async () => {
      const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
      proxies.push(proxy);
      const connection = new Connection({
        url: `amqp://${user}:${PASSWORD}@127.0.0.1:${proxy.port}/`,
        reconnect: false,
      });
      const recording = recordShown(connection);
      const queue = unique("secrets");
      const consumer = new Consumer(connection, { queue, autoDelete: true });
      await consumer.declare();
      await new Publisher(connection).send("held", { routingKey: queue });
      const message = await consumer.fetch();
      expect(message).not.toBeNull();
      const disconnected = new Promise((resolve) => connection.on("disconnect", resolve));
      proxy.cutAll();
      await disconnected;
      const ackError = await message!.ack().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      await connection.close();
      const shown = recording.stop();
      expect(ackError).toBeInstanceOf(ConnectionError);
      expect(leaks([ackError, ...shown, String(connection), inspect(connection)], SECRETS)).toEqual(
        [],
      );
    });

    it("a cut with reconnect off: every event, send and ack fails with a carrot error holding no amqplib error", async () => {
      const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
      proxies.push(proxy);
      const connection = new Connection({
        url: `amqp://${user}:${PASSWORD}@127.0.0.1:${proxy.port}/`,
        reconnect: false,
      });
      const recording = recordShown(connection);
      const queue = unique("secrets-cut");
      const consumer = new Consumer(connection, { queue, autoDelete: true });
      await consumer.declare();
      const publisher = new Publisher(connection, { routingKey: queue });
      await publisher.send("first");
      await publisher.send("second");
      const [first, second] = [await consumer.fetch(), await consumer.fetch()];
      const disconnected = new Promise((resolve) => connection.on("disconnect", resolve));
      // Under way when the cut comes: an ack waiting for its round trip, a send for its confirm.
      const underWay = [failureOf(first!.ack()), failureOf(publisher.send("in flight"))];
      proxy.cutAll();
      await disconnected;
      const failures = [
        ...(await Promise.all(underWay)),
        await failureOf(second!.ack()),
        await failureOf(publisher.send("after")),
      ];
      await connection.close();
      const shown = recording.stop();
      const errors = [...failures, ...eventErrors(shown)];

      expect(eventErrors(shown).length).toBeGreaterThanOrEqual(2); // the disconnect's, and "reconnect is off"
      expect(errors.flatMap(rawnessOf)).toEqual([]);
      expect(errors.filter((error) => (error as CarrotError).clientCode !== undefined)).not.toEqual(
        [],
      );
      expect(leaks([...errors, ...shown, inspect(connection)], SECRETS)).toEqual([]);
    });

    it("a cut with reconnect on: the disconnect and the failed attempts are carrot errors", async () => {
      const proxy = await FaultProxy.start(broker.hostname, Number(broker.port));
      proxies.push(proxy);
      const connection = new Connection({
        url: `amqp://${user}:${PASSWORD}@127.0.0.1:${proxy.port}/`,
        reconnect: { initialDelay: 10, maxDelay: 50 },
      });
      const recording = recordShown(connection);
      const queue = unique("secrets-reconnect");
      const consumer = new Consumer(connection, { queue, autoDelete: true });
      const consumed = deferred();
      consumer.registerCallback(async (_data, message) => {
        await message.ack();
        consumed.resolve();
      });
      await consumer.declare();
      const consuming = consumer.wait();
      // Consuming for sure, so that the cut is a consumer's to resume, not its start's to fail.
      await new Publisher(connection, { routingKey: queue }).send("first");
      await within(consumed.promise, 10_000, "the first message");
      const attemptFailed = deferred();
      const reconnected = deferred();
      connection.on("error", () => attemptFailed.resolve());
      connection.on("reconnect", () => reconnected.resolve());
      proxy.refuse(true);
      proxy.cutAll();
      await within(attemptFailed.promise, 10_000, "a failed reconnect attempt");
      proxy.refuse(false);
      await within(reconnected.promise, 10_000, "the reconnect");
      await consumer.cancel();
      await consuming;
      await connection.close();
      const shown = recording.stop();
      const errors = eventErrors(shown);

      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors.flatMap(rawnessOf)).toEqual([]);
      expect(leaks([...errors, ...shown, inspect(connection)], SECRETS)).toEqual([]);
    });
  });
});
