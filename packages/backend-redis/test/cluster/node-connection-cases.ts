import { FaultProxy } from "@carrot/conformance";
import type { Cluster, Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { ClusterTarget } from "../../src/cluster-url.js";
import { openRedis } from "../../src/redis-connector.js";
import { clusterNodes, clusterWanted, natMapOf, SKIPPED } from "../support/cluster.js";
import { deferred, unique, within } from "../support/redis.js";

const WAIT_MS = 10_000;

/** The Cluster events that tell a lost connection. */
const LIFECYCLE = ["close", "reconnecting", "ready"] as const;

describe.skipIf(!clusterWanted)(
  `a Redis Cluster client's node connections${clusterWanted ? "" : `: ${SKIPPED}`}`,
  () => {
    const cleanups: (() => unknown)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /**
     * A Cluster client as the backend opens one, reconnecting 50 ms after a
     * loss; by default one that must not resend (publishes, blocking reads).
     */
    async function open(options: ClusterTarget["options"], nodes = clusterNodes(), resend = false) {
      const target: ClusterTarget = { nodes, options, display: "the test cluster" };
      const cluster = (await openRedis(
        { retryStrategy: () => 50, autoResendUnfulfilledCommands: resend },
        "the test cluster",
        WAIT_MS,
        target,
      )) as Cluster;
      cleanups.push(() => cluster.disconnect());
      const events: string[] = [];
      for (const name of LIFECYCLE) cluster.on(name, () => events.push(name));
      return { cluster, events };
    }

    /** A proxy in front of every node, and a client through it: each node's address mapped to its proxy port. */
    async function openThroughProxy(resend?: boolean) {
      const proxy = await FaultProxy.start(clusterNodes());
      cleanups.push(() => proxy.close());
      const seeds = [...proxy.ports.values()].map((port) => ({ host: "127.0.0.1", port }));
      return { proxy, ...(await open({ natMap: natMapOf(proxy.ports) }, seeds, resend)) };
    }

    it("a master's connection lost while ready: the client reports close, reconnecting, ready, and fails the command written to it instead of sending it again", async () => {
      const { proxy, cluster, events } = await openThroughProxy();
      const key = unique("written");
      expect(await cluster.get(key)).toBeNull(); // the key's master is connected

      // Written by the client, held by the proxy, then dropped with the connection:
      // the command did not run, and the client cannot know that.
      proxy.stall(true);
      const written = cluster.set(key, "once").then(
        () => "resolved",
        (error: Error) => error.message,
      );
      const ready = new Promise((resolve) => cluster.once("ready", resolve));
      proxy.cut();
      proxy.stall(false);

      expect(await within(written, WAIT_MS, "the outcome of the SET in flight")).toMatch(
        /closed before the reply; the command may have run/,
      );
      await within(ready, WAIT_MS, "the client ready again");
      // ioredis says "close" once per node connection that ends, so maybe more than once.
      expect(events[0]).toBe("close");
      expect(events).toContain("reconnecting");
      expect(events.indexOf("ready")).toBe(events.length - 1);
      // Not sent again after the reconnect.
      expect(await cluster.get(key)).toBeNull();
    });

    it("on a client that resends (the command connection), what was written to every master when all were cut is sent again after the reconnect, as on one Redis", async () => {
      const { proxy, cluster } = await openThroughProxy(true);
      // Keys in many slots: some on each master.
      const keys = Array.from({ length: 30 }, (_, i) => unique(`resent-${i}`));
      await Promise.all(cluster.nodes("master").map((node) => node.ping()));
      expect(new Set(cluster.nodes("master")).size).toBe(3);

      proxy.stall(true);
      const written = keys.map((key) =>
        cluster.set(key, "v").then(
          () => "resolved",
          (error: Error) => error.message,
        ),
      );
      proxy.cut();
      proxy.stall(false);

      const outcomes = await within(Promise.all(written), WAIT_MS, "the SETs in flight");
      expect(outcomes.filter((outcome) => outcome !== "resolved")).toEqual([]);
      expect(await Promise.all(keys.map((key) => cluster.get(key)))).toEqual(keys.map(() => "v"));
      await Promise.all(keys.map((key) => cluster.del(key)));
    });

    it("a node connection ioredis closes itself after reading the slot table (the node's address changed) is no loss", async () => {
      const remapped = new Map<string, { host: string; port: number }>();
      const { cluster, events } = await open({
        natMap: (key) => remapped.get(key) ?? null,
        slotsRefreshInterval: 100,
      });
      const masters = cluster.nodes("master");
      await Promise.all(masters.map((node) => node.ping())); // every master's connection up
      const old = masters[0] as Redis;
      const { host = "127.0.0.1", port = 0 } = old.options;
      // The node now answers at another address: the next slot table read drops the old connection.
      const proxy = await FaultProxy.start({ host, port });
      cleanups.push(() => proxy.close());
      const removed = deferred();
      cluster.on("-node", (node: Redis) => {
        if (node === old) removed.resolve();
      });
      remapped.set(`${host}:${port}`, { host: "127.0.0.1", port: proxy.port });
      await within(removed.promise, WAIT_MS, "ioredis dropping the node's old connection");

      expect(old.status).toBe("end");
      expect(cluster.status).toBe("ready");
      expect(events).toEqual([]);
      // Its slots are served through the new address.
      await Promise.all(cluster.nodes("master").map((node) => node.ping()));
      expect(proxy.connectionsSeen).toBeGreaterThan(0);
    });
  },
);
