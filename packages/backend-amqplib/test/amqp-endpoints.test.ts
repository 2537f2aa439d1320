import {
  type BackendOptions,
  DEFAULT_RECONNECT_POLICY,
  InvalidOptionsError,
} from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import { endpointsFrom, urlConnectTimeout } from "../src/amqp-endpoints.js";

/** The endpoints for these options and carrot's defaults for the rest. */
const endpoints = (options: Partial<BackendOptions>) =>
  endpointsFrom(
    {
      alternates: [],
      connectTimeout: 10_000,
      reconnect: DEFAULT_RECONNECT_POLICY,
      transportOptions: {},
      ...options,
    },
    {},
  );

/** The heartbeat the first endpoint proposes. */
const heartbeat = (options: Partial<BackendOptions>) => endpoints(options)[0]?.connect.heartbeat;

describe("AMQP endpoints", () => {
  it("propose a 30 s heartbeat unless the options or the URL set one; 0 turns it off", () => {
    expect(heartbeat({ url: "amqp://guest:guest@127.0.0.1" })).toBe(30);
    expect(heartbeat({ hostname: "127.0.0.1" })).toBe(30);
    expect(heartbeat({ url: "amqp://127.0.0.1/?heartbeat=5" })).toBe(5);
    expect(heartbeat({ url: "amqp://127.0.0.1/?heartbeat=5", heartbeat: 10 })).toBe(10);
    expect(heartbeat({ url: "amqp://127.0.0.1", heartbeat: 0 })).toBe(0);
  });
});

describe("AMQP URLs", () => {
  it("read the query's numbers: heartbeat, frame_max, channel_max, connection_timeout", () => {
    const [endpoint] = endpoints({
      url: "amqp://127.0.0.1/?heartbeat=0&frame_max=131072&channel_max=2047",
    });
    expect(endpoint?.connect).toMatchObject({ heartbeat: 0, frameMax: 131072, channelMax: 2047 });
    expect(urlConnectTimeout("amqp://127.0.0.1/?connection_timeout=5000")).toBe(5000);
  });

  it.each([
    [
      "amqp://rabbit/?heartbeat=soon",
      "heartbeat must be a whole number of seconds from 0 to 65535, got 'soon'",
    ],
    ["amqp://rabbit/?heartbeat=", "got ''"],
    ["amqp://rabbit/?heartbeat=65536", "got '65536'"],
    ["amqp://rabbit/?heartbeat=1.5", "got '1.5'"],
    [
      "amqp://rabbit/?frame_max=-1",
      "frame_max must be a whole number of bytes from 0 to 4294967295, got '-1'",
    ],
    [
      "amqp://rabbit/?channel_max=65536",
      "channel_max must be a whole number from 0 to 65535, got '65536'",
    ],
    [
      "amqp://rabbit/?heartbeats=5",
      "unknown amqp:// option 'heartbeats'; did you mean 'heartbeat'?",
    ],
    ["amqp://rabbit/?frameMax=4096", "did you mean 'frame_max'?"],
    [
      "amqp://rabbit/?connection_attempts=3",
      "carrot reads heartbeat, connection_timeout, frame_max, channel_max",
    ],
    ["amqp://rabbit/?constructor=1", "unknown amqp:// option 'constructor'"],
    [
      "amqp://rabbit:0/",
      "the port of amqp://rabbit:0/ must be a whole number from 1 to 65535, got 0",
    ],
    [
      "amqp://rabbit:notaport/",
      "(the port 'notaport' is not a number); expected amqp://user:password@host:5672/vhost",
    ],
    ["amqp://guest:pa#ss@rabbit/", "percent-encoded (%2F, %3F, %23, %40)"],
  ])("refuse %s", (url, message) => {
    expect(() => endpoints({ url })).toThrow(InvalidOptionsError);
    expect(() => endpoints({ url })).toThrow(message);
    expect(() => endpoints({ url })).not.toThrow(/pa#ss/);
  });

  it.each([
    [
      "amqp://rabbit/?connection_timeout=Infinity",
      "connection_timeout must be a whole number of milliseconds from 1 to 2147483647, got 'Infinity'",
    ],
    ["amqp://rabbit/?connection_timeout=0", "got '0'"],
  ])("refuse a connect timeout out of range: %s", (url, message) => {
    expect(() => urlConnectTimeout(url)).toThrow(message);
  });
});
