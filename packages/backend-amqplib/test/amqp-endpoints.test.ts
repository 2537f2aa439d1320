import { type BackendOptions, DEFAULT_RECONNECT_POLICY } from "@carrot/core/backend";
import { describe, expect, it } from "vitest";
import { endpointsFrom } from "../src/amqp-endpoints.js";

/** The heartbeat the first endpoint proposes, for these options and carrot's defaults for the rest. */
const heartbeat = (options: Partial<BackendOptions>) =>
  endpointsFrom(
    {
      alternates: [],
      connectTimeout: 10_000,
      reconnect: DEFAULT_RECONNECT_POLICY,
      transportOptions: {},
      ...options,
    },
    {},
  )[0]?.connect.heartbeat;

describe("AMQP endpoints", () => {
  it("propose a 30 s heartbeat unless the options or the URL set one; 0 turns it off", () => {
    expect(heartbeat({ url: "amqp://guest:guest@127.0.0.1" })).toBe(30);
    expect(heartbeat({ hostname: "127.0.0.1" })).toBe(30);
    expect(heartbeat({ url: "amqp://127.0.0.1/?heartbeat=5" })).toBe(5);
    expect(heartbeat({ url: "amqp://127.0.0.1/?heartbeat=5", heartbeat: 10 })).toBe(10);
    expect(heartbeat({ url: "amqp://127.0.0.1", heartbeat: 0 })).toBe(0);
  });
});
