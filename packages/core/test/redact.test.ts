import { describe, expect, it } from "vitest";
import { redactText, redactUrl, secretOf } from "../src/redact.js";

describe("redactUrl", () => {
  it("hides the password of a multi-node URL and shows every node", () => {
    expect(redactUrl("redis+cluster://app:s3cr,et@h1:7000,h2:7001,h3:7002/0?prefix=x")).toBe(
      "redis+cluster://app:***@h1:7000,h2:7001,h3:7002/0?prefix=x",
    );
    expect(redactUrl("rediss+cluster://h1:7000,h2:7001")).toBe("rediss+cluster://h1:7000,h2:7001");
  });

  it("hides a password and keeps the user who used it", () => {
    expect(redactUrl("amqp://guest:s3cret@rabbit:5672/prod")).toBe(
      "amqp://guest:***@rabbit:5672/prod",
    );
    expect(redactUrl("redis://:s3cret@cache:6379/0")).toBe("redis://:***@cache:6379/0");
  });

  it("hides a user name that comes alone: it is a token", () => {
    expect(redactUrl("redis://t0ken@cache:6379/0")).toBe("redis://***@cache:6379/0");
    expect(redactUrl("amqp://t0ken@rabbit/")).toBe("amqp://***@rabbit/");
  });

  it("hides a percent-encoded password or token whole", () => {
    expect(redactUrl("amqp://u:p%40ss%2Fw0rd@rabbit/")).toBe("amqp://u:***@rabbit/");
    expect(redactUrl("redis://t%3Aken@cache")).toBe("redis://***@cache");
  });

  it("leaves a URL without credentials as it is", () => {
    for (const url of [
      "redis://127.0.0.1:6379/0",
      "amqp://rabbit:5672/%2F?heartbeat=5&frame_max=131072",
      "sqs://eu-west-1?prefix=app-&visibilityTimeout=30",
      "sqs://?region=us-east-1&endpoint=http://127.0.0.1:4566",
    ])
      expect(redactUrl(url)).toBe(url);
  });

  it.each([
    "password",
    "token",
    "secret",
    "access_key",
    "secretAccessKey",
    "sessionToken",
    "auth",
    "key",
    "sig",
    "signature",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "api_key",
    "client-secret",
  ])("hides the value of the query parameter %s, in any case", (name) => {
    for (const spelled of [name, name.toUpperCase(), name.toLowerCase()]) {
      expect(redactUrl(`amqp://rabbit/?heartbeat=5&${spelled}=v4lue&x=1`)).toBe(
        `amqp://rabbit/?heartbeat=5&${spelled}=***&x=1`,
      );
    }
  });

  it("hides a secret query value that is percent-encoded, or named with percent-encoding", () => {
    expect(redactUrl("redis://cache/0?token=a%2Fb%3Dc")).toBe("redis://cache/0?token=***");
    expect(redactUrl("redis://cache/0?%74oken=abc")).toBe("redis://cache/0?%74oken=***");
  });

  it("redacts a URL given as a query value (an endpoint), raw or percent-encoded", () => {
    expect(redactUrl("sqs://?region=us-east-1&endpoint=http://u:s3cret@127.0.0.1:4566")).toBe(
      `sqs://?region=us-east-1&endpoint=${encodeURIComponent("http://u:***@127.0.0.1:4566/")}`,
    );
    const nested = encodeURIComponent("https://sqs.local/?X-Amz-Signature=abc&a=1");
    expect(redactUrl(`sqs://?endpoint=${nested}`)).toBe(
      `sqs://?endpoint=${encodeURIComponent("https://sqs.local/?X-Amz-Signature=***&a=1")}`,
    );
  });

  it("shows an unparsable URL by its scheme only", () => {
    expect(redactUrl("amqp://user:s3cret@[::1")).toBe("amqp://(unparsable URL)");
    expect(redactUrl("amqp:/user:s3cret@rabbit")).toBe("amqp://(unparsable URL)");
    expect(redactUrl("redis:user:s3cret@cache")).toBe("redis://(unparsable URL)");
    expect(redactUrl("s3cret")).toBe("(unparsable URL)");
  });

  it("is idempotent: a redacted URL stays as it is", () => {
    for (const url of [
      "amqp://guest:s3cret@rabbit/v?token=x",
      "redis://t0ken@cache/0",
      "sqs://?endpoint=http://u:p@h:1",
    ]) {
      const once = redactUrl(url);
      expect(redactUrl(once)).toBe(once);
    }
  });
});

describe("secretOf", () => {
  it("is the password, or the user name when it comes alone", () => {
    expect(secretOf("guest", "s3cret")).toBe("s3cret");
    expect(secretOf("t0ken", "")).toBe("t0ken");
    expect(secretOf("t0ken", undefined)).toBe("t0ken");
    expect(secretOf(undefined, undefined)).toBeUndefined();
  });
});

describe("redactText", () => {
  it("redacts every URL in a text", () => {
    expect(
      redactText("cannot reach redis://:s3cret@cache:6379 (ECONNREFUSED); also amqp://t0ken@r"),
    ).toBe("cannot reach redis://:***@cache:6379 (ECONNREFUSED); also amqp://***@r");
  });

  it("hides the values of credential-named pairs, as an AWS canonical request shows them", () => {
    const text = [
      "The Canonical String for this request should have been 'POST",
      "x-amz-security-token:FQoGZXIvYXdzE",
      "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0123abcd",
      "password = hunter2'",
    ].join("\n");
    expect(redactText(text)).toBe(
      [
        "The Canonical String for this request should have been 'POST",
        "x-amz-security-token:***",
        "Authorization: *** Credential=***, SignedHeaders=host, Signature=***",
        "password = ***'",
      ].join("\n"),
    );
  });

  it("replaces each known secret wherever it stands", () => {
    expect(redactText("HELLO 3 AUTH alice s3cret-pw; again s3cret-pw", ["s3cret-pw"])).toBe(
      "HELLO 3 AUTH alice ***; again ***",
    );
  });

  it("leaves an ordinary message and a stack trace as they are", () => {
    const text = [
      "WRONGPASS invalid username-password pair or user is disabled.",
      "    at Decoder.decode (/app/node_modules/ioredis/built/resp/decoder.js:450:11)",
      "    at file:///app/src/main.js:12:7",
      "connect ECONNREFUSED 127.0.0.1:6379",
    ].join("\n");
    expect(redactText(text, [undefined, ""])).toBe(text);
  });
});
