import { describe, expect, it } from "vitest";
import { importBackend, registerBackend } from "../src/backend-registry.js";
import { Connection } from "../src/connection.js";
import {
  AuthenticationError,
  BackendNotInstalledError,
  CarrotError,
  ConnectionError,
  ContentTypeNotAcceptedError,
  DecodeError,
  InvalidOptionsError,
  UnknownSchemeError,
} from "../src/errors.js";
import { AMQPConnection, BrokerConnection } from "../src/index.js";

describe("Connection options", () => {
  it("refuses an unknown scheme at construction, naming the known ones", () => {
    expect(() => new Connection("kafka://localhost:9092")).toThrow(UnknownSchemeError);
    expect(() => new Connection("kafka://localhost:9092")).toThrow(
      /known: memory, amqp, amqps, redis, rediss, redis\+cluster, rediss\+cluster, sqs/,
    );
  });

  it("refuses a malformed URL without showing its password", () => {
    const attempt = () => new Connection("amqp://user:s3cret@@:bad:port");
    expect(attempt).toThrow(InvalidOptionsError);
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain("s3cret");
      // No parser error as cause: Node's quotes the whole URL, password and all.
      expect((error as Error).cause).toBeUndefined();
    }
  });

  it.each([
    [{ port: 0 }, /port must be a whole number from 1 to 65535, got 0/],
    [{ port: 70000 }, /port .* got 70000/],
    [{ port: 5672.5 }, /port .* got 5672.5/],
    [{ port: "5672" as unknown as number }, /port .* got "5672" \(a string\)/],
    [
      { connectTimeout: -1 },
      /connectTimeout must be a whole number of milliseconds from 1 to 2147483647, got -1/,
    ],
    [{ connectTimeout: Number.POSITIVE_INFINITY }, /connectTimeout .* got Infinity/],
    [{ connectTimeout: Number.NaN }, /connectTimeout .* got NaN/],
    [{ connectTimeout: 2 ** 31 }, /connectTimeout .* got 2147483648/],
    [
      { heartbeat: Number.NaN },
      /heartbeat must be a whole number of seconds from 0 to 65535, got NaN/,
    ],
    [{ heartbeat: -1 }, /heartbeat .* got -1/],
    [{ heartbeat: 0.5 }, /heartbeat .* got 0.5/],
    [{ heartbeat: 65_536 }, /heartbeat .* got 65536/],
    [{ heartbeat: Number.POSITIVE_INFINITY }, /heartbeat .* got Infinity/],
    [{ reconnect: { factor: 0.5 } }, /reconnect.factor must be a finite number >= 1, got 0.5/],
    [{ reconnect: { factor: Number.POSITIVE_INFINITY } }, /reconnect.factor .* got Infinity/],
    [
      { reconnect: { initialDelay: 0 } },
      /reconnect.initialDelay must be a whole number of milliseconds from 1 to/,
    ],
    [{ reconnect: { maxDelay: Number.POSITIVE_INFINITY } }, /reconnect.maxDelay .* got Infinity/],
    [
      { reconnect: { maxAttempts: Number.NaN } },
      /reconnect.maxAttempts must be a whole number >= 1, or Infinity to never give up, got NaN/,
    ],
    [{ reconnect: { maxAttempts: 2.5 } }, /reconnect.maxAttempts .* got 2.5/],
    [
      { reconnect: { max_attempts: 3 } as never },
      /unknown option 'max_attempts' in reconnect; did you mean 'maxAttempts'\?/,
    ],
    [{ alternates: ["not a url"] }, /not a valid URL/],
    [{ alternates: "amqp://other" as never }, /alternates must be an array of URLs/],
    [
      { connect_timeout: 5000 } as never,
      /unknown option 'connect_timeout' for a Connection; did you mean 'connectTimeout'\?/,
    ],
    [
      { host: "rabbit" } as never,
      /unknown option 'host' for a Connection; did you mean 'hostname'\?/,
    ],
    [
      { ssl: true } as never,
      /unknown option 'ssl' for a Connection; the options are: url, hostname, /,
    ],
  ])("refuses %j with InvalidOptionsError", (options, message) => {
    expect(() => new Connection({ url: "memory://", ...options })).toThrow(InvalidOptionsError);
    expect(() => new Connection({ url: "memory://", ...options })).toThrow(message);
  });

  it("takes Infinity for reconnect.maxAttempts: never give up", () => {
    expect(
      () =>
        new Connection({ url: "memory://", reconnect: { maxAttempts: Number.POSITIVE_INFINITY } }),
    ).not.toThrow();
  });

  it.each([
    ["amqp://rabbit:notaport/", /\(the port 'notaport' is not a number\)/],
    ["amqp://rabbit:99999/", /\(the port 99999 is over 65535\)/],
    ["amqp://guest:pa#ss@rabbit/", /percent-encoded \(%2F, %3F, %23, %40\)/],
    ["amqp://guest:pa/ss@rabbit/", /percent-encoded/],
    ["amqp://[::1/", /needs its closing '\]'/],
  ])("explains a URL that does not parse: %s", (url, problem) => {
    const attempt = () => new Connection(url);
    expect(attempt).toThrow(InvalidOptionsError);
    expect(attempt).toThrow(problem);
    expect(attempt).not.toThrow(/pa#ss|pa\/ss/);
  });

  it("refuses a URL with no '//', which parses as a path with no host", () => {
    const attempt = () => new Connection("redis:u:s3cret@cache:6379");
    expect(attempt).toThrow(
      "a broker URL needs '//' after 'redis:'; write redis://u:***@cache:6379",
    );
  });

  it("shows itself without the password", () => {
    expect(String(new Connection("amqp://guest:s3cret@rabbit:5672/prod"))).toBe(
      "Connection(amqp://guest:***@rabbit:5672/prod)",
    );
    expect(
      String(
        new Connection({ hostname: "rabbit", userid: "u", password: "s3cret", vhost: "test" }),
      ),
    ).toBe("Connection(amqp://u@rabbit/test)");
  });

  it("keeps carrot's names as aliases", () => {
    expect(AMQPConnection).toBe(Connection);
    expect(BrokerConnection).toBe(Connection);
  });

  it("a missing backend package names the package to install, and how a bundled application registers it", async () => {
    const error = await importBackend("@carrot/backend-that-is-not-installed", "nope").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendNotInstalledError);
    expect((error as CarrotError).code).toBe("ERR_CARROT_BACKEND_NOT_INSTALLED");
    expect(String(error)).toContain("npm install @carrot/backend-that-is-not-installed");
    expect(String(error)).toContain('import "@carrot/backend-that-is-not-installed/register"');
    expect(String(error)).toContain(
      'import backend from "@carrot/backend-that-is-not-installed"; registerBackend("nope", backend)',
    );
  });

  it("registerBackend serves a new scheme with a third-party factory", async () => {
    const created: string[] = [];
    registerBackend("thirdparty", (options) => {
      created.push(options.url ?? "");
      throw new InvalidOptionsError("factory reached");
    });
    await expect(new Connection("thirdparty://x").connect()).rejects.toThrow("factory reached");
    expect(created).toEqual(["thirdparty://x"]);
    expect(() => registerBackend("not a scheme", () => ({}) as never)).toThrow(InvalidOptionsError);
  });

  it("every error is a CarrotError with a stable code and its own name", () => {
    const error = new UnknownSchemeError("x");
    expect(error).toBeInstanceOf(CarrotError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("UnknownSchemeError");
    expect(error.code).toBe("ERR_CARROT_UNKNOWN_SCHEME");
  });

  it("subclasses keep their parents: an AuthenticationError is a ConnectionError", () => {
    const error: ConnectionError = new AuthenticationError("refused", { cause: new Error("403") });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("ERR_CARROT_AUTH");
    expect((error.cause as Error).message).toBe("403");
    expect(new ContentTypeNotAcceptedError("x")).toBeInstanceOf(DecodeError);
  });
});
