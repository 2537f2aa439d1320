import { describe, expect, it } from "vitest";
import type { BindingDeclaration } from "../../src/contract.js";
import { RouteCache } from "../../src/kit/route-cache.js";

const bind = (queue: string, routingKey: string, args?: BindingDeclaration["arguments"]) => ({
  queue,
  exchange: "ex",
  routingKey,
  ...(args ? { arguments: args } : {}),
});

describe("the route cache", () => {
  it("routes nothing through an exchange whose bindings it was not given", () => {
    expect(new RouteCache().route("ex", "k", {})).toBeUndefined();
  });

  it("routes with the bindings it was given, at their version", () => {
    const routes = new RouteCache();
    routes.remember("ex", {
      version: "v1",
      type: "topic",
      bindings: [bind("a", "order.*"), bind("b", "#"), bind("a", "order.created")],
    });
    expect(routes.route("ex", "order.created", {})).toEqual({
      exchange: "ex",
      queues: ["a", "b"],
      version: "v1",
    });
    expect(routes.route("ex", "user.created", {})?.queues).toEqual(["b"]);
  });

  it("decides once per routing key and version: the same decision object until the version changes", () => {
    const routes = new RouteCache();
    routes.remember("ex", { version: "v1", type: "direct", bindings: [bind("a", "k")] });
    const first = routes.route("ex", "k", {});
    expect(routes.route("ex", "k", {})).toBe(first);
    routes.remember("ex", { version: "v2", type: "direct", bindings: [bind("b", "k")] });
    const second = routes.route("ex", "k", {});
    expect(second).not.toBe(first);
    expect(second).toEqual({ exchange: "ex", queues: ["b"], version: "v2" });
  });

  it("given the version the caller holds, refuses bindings of another", () => {
    const routes = new RouteCache();
    routes.remember("ex", { version: "3", type: "fanout", bindings: [bind("a", "")] });
    expect(routes.route("ex", "k", {}, "3")?.queues).toEqual(["a"]);
    expect(routes.route("ex", "k", {}, "4")).toBeUndefined();
  });

  it("forgets an exchange: its next route waits for its bindings", () => {
    const routes = new RouteCache();
    routes.remember("ex", { version: "1", type: "fanout", bindings: [bind("a", "")] });
    routes.forget("ex");
    expect(routes.route("ex", "k", {})).toBeUndefined();
  });

  it("routes a headers exchange on each message's headers", () => {
    const routes = new RouteCache();
    routes.remember("ex", {
      version: "1",
      type: "headers",
      bindings: [bind("eu", "", { region: "eu" }), bind("us", "", { region: "us" })],
    });
    expect(routes.route("ex", "", { region: "eu" })?.queues).toEqual(["eu"]);
    expect(routes.route("ex", "", { region: "us" })?.queues).toEqual(["us"]);
  });

  it("routes the default exchange to the queue named by the routing key, with no version", () => {
    const routes = new RouteCache();
    const decision = routes.route("", "jobs", {});
    expect(decision).toEqual({ exchange: "", queues: ["jobs"], version: "" });
    expect(routes.route("", "jobs", {}, "any")).toBe(decision);
  });

  it("keeps routing right past its bounds, however many routing keys pass", () => {
    const routes = new RouteCache();
    routes.remember("ex", { version: "1", type: "topic", bindings: [bind("a", "id.*")] });
    const misrouted: string[] = [];
    for (let i = 0; i < 25_000; i++) {
      const queues = routes.route("ex", `id.${i}`, {})?.queues;
      if (queues?.length !== 1 || queues[0] !== "a") misrouted.push(`id.${i}`);
    }
    expect(misrouted).toEqual([]);
  });
});
