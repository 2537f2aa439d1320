import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Connection, Consumer, type Message, Publisher } from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { deferred, redisUrl, removeKeys, unique, uniquePrefix, within } from "./support/redis.js";

const holder = fileURLToPath(new URL("./support/holding-consumer.ts", import.meta.url));
const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** Resolves when the child prints a line matching `pattern`. */
function lineFrom(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split("\n").find((l) => pattern.test(l));
      if (line) resolve(line);
    });
    child.once("exit", (code) =>
      reject(new Error(`the child exited (${code}) before '${pattern}'`)),
    );
  });
}

describe("reclaim after a consumer dies", () => {
  const prefix = uniquePrefix();
  const url = redisUrl(prefix, { visibilityTimeout: 1000, claimInterval: 100 });
  const open: Connection[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
    await Promise.all(open.splice(0).map((c) => c.close()));
    await removeKeys(prefix);
  });

  // A child process starts and is killed: room for a loaded 2-core machine.
  it("a process killed with SIGKILL while holding messages: another gets each once, redelivered", {
    timeout: 60_000,
  }, async () => {
    const queue = unique("work");
    const conn = new Connection(url);
    open.push(conn);
    const child = spawn(
      process.execPath,
      ["--conditions=@carrot/source", "--import", "tsx", holder, url, queue, "5"],
      { cwd: packageDir, stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    await within(lineFrom(child, /^ready$/), 20_000, "the child consumer to start");
    const held = lineFrom(child, /^held 5$/);
    const publisher = new Publisher(conn, { routingKey: queue });
    for (let i = 0; i < 5; i++) await publisher.send(`m${i}`);
    await within(held, 10_000, "the child to hold 5 messages");

    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;

    const received: Message<string>[] = [];
    const sentinelSeen = deferred();
    const survivor = new Consumer<string>(conn, { queue });
    survivor.registerCallback(async (data, message) => {
      received.push(message);
      await message.ack();
      if (data === "sentinel") sentinelSeen.resolve();
      else if (received.length === 5) await publisher.send("sentinel");
    });
    const done = survivor.wait();
    await within(sentinelSeen.promise, 15_000, "the reclaimed messages and the sentinel");
    await survivor.cancel();
    await done;
    const reclaimed = received.filter((m) => m.payload !== "sentinel");
    expect(reclaimed.map((m) => m.payload).sort()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(reclaimed.every((m) => m.deliveryInfo.redelivered)).toBe(true);
    expect(received.at(-1)?.payload).toBe("sentinel");
  });

  it("held deliveries are kept alive past the visibility timeout and not reclaimed", async () => {
    const queue = unique("slow");
    // A roomier timeout than the other case's: renewals must not miss it on a loaded machine.
    const leaseUrl = redisUrl(prefix, { visibilityTimeout: 2000, claimInterval: 100 });
    const holderConn = new Connection(leaseUrl);
    const otherConn = new Connection(leaseUrl);
    open.push(holderConn, otherConn);
    const got = deferred<Message<string>>();
    const slow = new Consumer<string>(holderConn, { queue, prefetchCount: 1 });
    slow.registerCallback((_data, message) => got.resolve(message));
    await slow.declare();
    const slowDone = slow.wait();
    await new Publisher(otherConn, { routingKey: queue }).send("long job");
    const message = await within(got.promise, 10_000, "the first delivery");

    // Another consumer scans for idle entries every 100 ms; it must not get the held one.
    const stolen: string[] = [];
    const other = new Consumer<string>(otherConn, { queue });
    other.registerCallback(async (data, m) => {
      stolen.push(data);
      await m.ack();
    });
    const otherDone = other.wait();
    // Three visibility timeouts pass while the lease is renewed; extend renews on demand too.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await message.extend(2);
    }
    await message.ack();
    // Stopped first: with room again, it would compete with `other` for the next message.
    await slow.cancel();
    await new Publisher(otherConn, { routingKey: queue }).send("after");
    await within(
      (async () => {
        while (!stolen.includes("after")) await new Promise((r) => setTimeout(r, 20));
      })(),
      10_000,
      "the later message",
    );
    expect(stolen).toEqual(["after"]);
    await other.cancel();
    await Promise.all([slowDone, otherDone]);
  });
});
