import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionError, ConnectTimeoutError } from "../../src/errors.js";
import { connectFailure, networkErrorCode } from "../../src/kit/network-errors.js";

/** The error Node gives for a TCP connect to a loopback port nobody listens on. */
function refusedConnect(): Promise<Error> {
  return new Promise((resolve) => {
    const server = connect({ host: "127.0.0.1", port: 1 });
    server.on("error", resolve);
  });
}

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

const context = { where: "broker at 127.0.0.1:1", timeout: 500, secrets: ["s3cret"] };

describe("networkErrorCode", () => {
  it("reads Node's code from the error, its causes and the errors it aggregates", async () => {
    expect(networkErrorCode(await refusedConnect())).toBe("ECONNREFUSED");
    expect(networkErrorCode(new Error("wrapped", { cause: withCode("x", "ENOTFOUND") }))).toBe(
      "ENOTFOUND",
    );
    expect(
      networkErrorCode(new AggregateError([new Error("v6"), withCode("v4", "EHOSTUNREACH")])),
    ).toBe("EHOSTUNREACH");
  });

  it("is undefined for what is not a network failure", () => {
    expect(networkErrorCode(withCode("no such queue", "404"))).toBeUndefined();
    expect(networkErrorCode(new Error("ACCESS_REFUSED"))).toBeUndefined();
    expect(networkErrorCode("ECONNREFUSED")).toBeUndefined();
  });
});

describe("connectFailure", () => {
  it("says what to check for each kind of failure, with the code kept", async () => {
    const refused = connectFailure(await refusedConnect(), context);
    expect(refused).toBeInstanceOf(ConnectionError);
    expect(refused?.message).toBe(
      "broker at 127.0.0.1:1 refused the TCP connection (ECONNREFUSED); is the broker running and listening on that port?",
    );
    expect(refused?.clientCode).toBe("ECONNREFUSED");

    const timeout = connectFailure(new Error("connect timed out"), context);
    expect(timeout).toBeInstanceOf(ConnectTimeoutError);
    expect(timeout?.message).toBe(
      "no connection to broker at 127.0.0.1:1 within 500 ms; is the broker up and the address right?",
    );

    const certificate = connectFailure(
      withCode("self-signed", "DEPTH_ZERO_SELF_SIGNED_CERT"),
      context,
    );
    expect(certificate?.message).toMatch(
      /^the TLS certificate of broker at 127\.0\.0\.1:1 was refused/,
    );
    expect(connectFailure(withCode("getaddrinfo", "EAI_AGAIN"), context)?.message).toBe(
      "the host of broker at 127.0.0.1:1 cannot be resolved (EAI_AGAIN); check the host name",
    );
  });

  it("leaves protocol failures to the backend", () => {
    expect(connectFailure(new Error("ACCESS_REFUSED - login refused"), context)).toBeUndefined();
  });

  it("hides secrets from the message and the cause", () => {
    const failure = connectFailure(
      withCode("connect to amqp://user:s3cret@h failed", "ECONNRESET"),
      context,
    );
    expect(failure).toBeInstanceOf(ConnectionError);
    expect(failure!.message).not.toContain("s3cret");
    expect((failure!.cause as Error).message).not.toContain("s3cret");
  });
});
