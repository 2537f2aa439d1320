import {
  type BackendOptions,
  DEFAULT_RECONNECT_POLICY,
  InvalidOptionsError,
} from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import {
  optionsFromBackendOptions,
  resolveSqsOptions,
  type SqsBackendOptions,
} from "../src/sqs-options.js";

// What an sqs:// URL and the SqsBackend's options accept, and what they
// refuse and how they say so. No SQS is reached here.

function fromUrl(url: string): SqsBackendOptions {
  const options: BackendOptions = {
    url,
    alternates: [],
    connectTimeout: 10_000,
    reconnect: DEFAULT_RECONNECT_POLICY,
    transportOptions: {},
  };
  return resolveSqsOptions(optionsFromBackendOptions(options));
}

describe("sqs:// URLs", () => {
  it("take a region as host or ?region=, an endpoint, and the numbers in range", () => {
    expect(fromUrl("sqs://eu-west-1?prefix=app-")).toMatchObject({
      region: "eu-west-1",
      prefix: "app-",
    });
    expect(
      fromUrl(
        "sqs://?region=us-east-1&endpoint=http://127.0.0.1:4566&waitTimeSeconds=0&visibilityTimeout=60",
      ),
    ).toMatchObject({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:4566",
      waitTimeSeconds: 0,
      visibilityTimeout: 60,
    });
    expect(fromUrl("sqs://elasticmq?endpoint=http://localhost:9324").region).toBe("elasticmq");
  });

  it.each([
    [
      "sqs://127.0.0.1:4599",
      "'127.0.0.1:4599' is a host and port, which is an endpoint, not a region; write sqs://<region>?endpoint=http://127.0.0.1:4599",
    ],
    ["sqs://localhost:4566", "write sqs://<region>?endpoint=http://localhost:4566"],
    ["sqs://localhost", "write sqs://<region>?endpoint=http://localhost"],
    ["sqs://[::1]:4566", "write sqs://<region>?endpoint=http://[::1]:4566"],
    ["sqs://sqs.eu-west-1.amazonaws.com", "is the SQS endpoint of a region; write sqs://eu-west-1"],
    [
      "sqs://vpce-1.sqs.example.internal",
      "write sqs://<region>?endpoint=https://vpce-1.sqs.example.internal",
    ],
  ])("refuse an endpoint written as the region: %s", (url, message) => {
    expect(() => fromUrl(url)).toThrow(InvalidOptionsError);
    expect(() => fromUrl(url)).toThrow(message);
  });

  it.each([
    [
      "sqs://us-east-1?visibility_timeout=5",
      "unknown sqs:// option 'visibility_timeout'; did you mean 'visibilityTimeout'?",
    ],
    ["sqs://us-east-1?waittimeseconds=5", "did you mean 'waitTimeSeconds'?"],
    [
      "sqs://us-east-1?colour=blue",
      "unknown sqs:// option 'colour'; known: region, endpoint, prefix,",
    ],
    [
      "sqs://us-east-1?waitTimeSeconds=",
      "sqs:// option waitTimeSeconds must be a whole number of seconds from 0 to 20, got ''",
    ],
    ["sqs://us-east-1?waitTimeSeconds=21", "got '21'"],
    [
      "sqs://us-east-1?visibilityTimeout=Infinity",
      "visibilityTimeout must be a whole number of seconds from 1 to 43200, got 'Infinity'",
    ],
    ["sqs://us-east-1?visibilityTimeout=1.5", "got '1.5'"],
    [
      "sqs://us-east-1?maxMessageSize=NaN",
      "maxMessageSize must be a whole number of bytes from 1024 to 1048576, got 'NaN'",
    ],
    [
      "sqs://us-east-1?bindingRefresh=-1",
      "bindingRefresh must be a whole number of milliseconds from 0 to 3600000, got '-1'",
    ],
    [
      "sqs://us-east-1?maxHold=0",
      "maxHold must be a whole number of seconds from 1 to 43200, got '0'",
    ],
    [
      "sqs://us-east-1/orders",
      "an sqs:// URL has no path; each Consumer and Publisher names its queue",
    ],
    [
      "sqs://us-east-1?endpoint=127.0.0.1:4566",
      "the SQS endpoint must be an http:// or https:// URL, got '127.0.0.1:4566'; write http://127.0.0.1:4566",
    ],
    ["sqs://us-east-1?endpoint=localhost:4566", "write http://localhost:4566"],
    ["sqs://us-east-1:notaport", "(the port 'notaport' is not a number)"],
  ])("refuse %s", (url, message) => {
    expect(() => fromUrl(url)).toThrow(InvalidOptionsError);
    expect(() => fromUrl(url)).toThrow(message);
  });
});

describe("SqsBackend options", () => {
  it.each([
    [
      { visibility_timeout: 5 },
      "unknown option 'visibility_timeout' for the SQS backend; did you mean 'visibilityTimeout'?",
    ],
    [
      { heartbeat: -1 },
      "SQS option heartbeat must be a whole number of seconds from 0 to 65535, got -1",
    ],
    [{ heartbeat: Number.NaN }, "got NaN"],
    [
      { connectTimeout: Number.POSITIVE_INFINITY },
      "SQS option connectTimeout must be a whole number of milliseconds from 1 to 2147483647, got Infinity",
    ],
    [
      { reconnect: { initialDelay: -5 } },
      "reconnect.initialDelay must be a whole number of milliseconds from 1 to 2147483647, got -5",
    ],
    [
      { waitTimeSeconds: 20.5 },
      "SQS option waitTimeSeconds must be a whole number of seconds from 0 to 20, got 20.5",
    ],
    [{ endpoint: "fauxqs:4566" }, "write http://fauxqs:4566"],
  ])("refuse %j", (options, message) => {
    expect(() => resolveSqsOptions(options as SqsBackendOptions)).toThrow(InvalidOptionsError);
    expect(() => resolveSqsOptions(options as SqsBackendOptions)).toThrow(message);
  });

  it("take heartbeat 0 as none, and keep the defaults otherwise", () => {
    expect(resolveSqsOptions({ heartbeat: 0 })).toMatchObject({
      heartbeat: undefined,
      visibilityTimeout: 30,
      waitTimeSeconds: 20,
      connectTimeout: 10_000,
    });
  });
});
