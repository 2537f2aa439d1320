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
      /known: memory, amqp, amqps, redis, rediss, sqs/,
    );
  });

  it("refuses a malformed URL without showing its password", () => {
    const attempt = () => new Connection("amqp://user:s3cret@@:bad:port");
    expect(attempt).toThrow(InvalidOptionsError);
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain("s3cret");
      expect(String((error as Error).cause ?? "")).toContain("Invalid URL");
    }
  });

  it.each([
    [{ port: 0 }, /port must be an integer from 1 to 65535/],
    [{ port: 70000 }, /port/],
    [{ port: "5672" as unknown as number }, /port/],
    [{ connectTimeout: -1 }, /connectTimeout must be a positive number/],
    [{ heartbeat: Number.NaN }, /heartbeat/],
    [{ reconnect: { factor: 0.5 } }, /reconnect.factor must be >= 1/],
    [{ alternates: ["not a url"] }, /not a valid URL/],
  ])("refuses %j with InvalidOptionsError", (options, message) => {
    expect(() => new Connection({ url: "memory://", ...options })).toThrow(InvalidOptionsError);
    expect(() => new Connection({ url: "memory://", ...options })).toThrow(message);
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

  it("a missing backend package names the package to install", async () => {
    const error = await importBackend("@carrot/backend-that-is-not-installed", "nope").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendNotInstalledError);
    expect((error as CarrotError).code).toBe("ERR_CARROT_BACKEND_NOT_INSTALLED");
    expect(String(error)).toContain("npm install @carrot/backend-that-is-not-installed");
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
