import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Connection, Consumer, type Message, Publisher } from "@carrot/core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { KeyLayout } from "../src/key-layout.js";
import { withScripts } from "../src/lua-scripts.js";
import {
  deferred,
  rawRedis,
  redisUrl,
  removeKeys,
  unique,
  uniquePrefix,
  within,
} from "./support/redis.js";

// DeliveryInfo.deliveryCount from the pending-entries list's delivery
// counter: 1 for a fresh read, Redis's count for a reclaimed entry, and the
// count carried in the `r` field of an entry re-added by a requeue.

const holder = fileURLToPath(new URL("./support/holding-consumer.ts", import.meta.url));
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const GROUP = "carrot";

/** Resolves when the child prints a line matching `pattern`. */
function lineFrom(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.split("\n").some((line) => pattern.test(line))) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`the child exited (${code}) before '${pattern}'`)),
    );
  });
}

/** The next message `consumer` fetches, within the deadline. */
async function fetchOne(consumer: Consumer<string>): Promise<Message<string>> {
  const message = await within(consumer.fetch(), 10_000, "a message");
  if (!message) throw new Error("the queue was empty");
  return message;
}

describe("deliveryCount from the pending-entries list", () => {
  const prefix = uniquePrefix();
  const url = redisUrl(prefix, { visibilityTimeout: 1000, claimInterval: 100 });
  const open: Connection[] = [];
  const children: ChildProcess[] = [];
  const connect = () => {
    const conn = new Connection(url);
    open.push(conn);
    return conn;
  };
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
    await Promise.all(open.splice(0).map((c) => c.close()));
    await removeKeys(prefix);
  });

  it("counts requeues, not lease renewals", async () => {
    const conn = connect();
    const queue = unique("q");
    const consumer = new Consumer<string>(conn, { queue });
    await consumer.declare();
    await new Publisher(conn, { routingKey: queue }).send("m");
    const first = await fetchOne(consumer);
    expect(first.deliveryInfo).toMatchObject({ redelivered: false, deliveryCount: 1 });
    await first.requeue();
    const second = await fetchOne(consumer);
    expect(second.deliveryInfo).toMatchObject({ redelivered: true, deliveryCount: 2 });
    // Each extend renews the lease at once (XCLAIM JUSTID), which Redis does not count.
    for (let i = 0; i < 3; i++) await second.extend(1);
    await second.requeue();
    const third = await fetchOne(consumer);
    expect(third.deliveryInfo).toMatchObject({ redelivered: true, deliveryCount: 3 });
    await third.ack();
  });

  // A child process starts and is killed: room for a loaded 2-core machine.
  it("counts across a requeue and a consumer process killed holding the message", {
    timeout: 60_000,
  }, async () => {
    const conn = connect();
    const queue = unique("crash");
    const fetcher = new Consumer<string>(conn, { queue });
    await fetcher.declare();
    await new Publisher(conn, { routingKey: queue }).send("m");
    await (await fetchOne(fetcher)).requeue(); // delivery 1

    const child = spawn(
      process.execPath,
      ["--conditions=@carrot/source", "--import", "tsx", holder, url, queue, "1"],
      { cwd: packageDir, stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    await within(lineFrom(child, /^held 1$/), 20_000, "the child to hold the message"); // delivery 2
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;

    const got = deferred<Message<string>>();
    const survivor = new Consumer<string>(conn, { queue });
    survivor.registerCallback(async (_data, message) => {
      await message.ack();
      got.resolve(message);
    });
    const done = survivor.wait();
    const reclaimed = await within(got.promise, 15_000, "the reclaimed message"); // delivery 3
    expect(reclaimed.deliveryInfo).toMatchObject({ redelivered: true, deliveryCount: 3 });
    await survivor.cancel();
    await done;
  });

  it("counts the deliveries of a connection closed holding the message", async () => {
    const conn = connect();
    const queue = unique("closed");
    const fetcher = new Consumer<string>(conn, { queue });
    await fetcher.declare();
    await new Publisher(conn, { routingKey: queue }).send("m");
    const other = new Connection(url);
    const held = await fetchOne(new Consumer<string>(other, { queue }));
    expect(held.deliveryInfo.deliveryCount).toBe(1);
    await other.close(); // gives it back
    const back = await fetchOne(fetcher);
    expect(back.deliveryInfo).toMatchObject({ redelivered: true, deliveryCount: 2 });
    await back.ack();
  });
});

describe("the count carried by re-added entries", () => {
  const prefix = uniquePrefix();
  const key = new KeyLayout(prefix).stream("q");
  const redis = withScripts(rawRedis());
  afterAll(async () => {
    redis.disconnect();
    await removeKeys(prefix);
  });

  /** The `r` field of the stream's only entry, and its id. */
  async function onlyEntry(): Promise<{ id: string; r: string | undefined }> {
    const entries = (await redis.xrange(key, "-", "+")) as [string, string[]][];
    expect(entries).toHaveLength(1);
    const [id, fields] = entries[0]!;
    return { id, r: fields[fields.indexOf("r") + 1] };
  }

  it("a requeue adds every delivery; an unseen return all but the one whose reply was lost", async () => {
    await redis.xgroup("CREATE", key, GROUP, "0", "MKSTREAM");
    await redis.xadd(key, "*", "b", "m");
    await redis.xreadgroup("GROUP", GROUP, "a", "COUNT", 1, "STREAMS", key, ">");
    // A read whose reply never reached the application: not a delivery.
    expect(await redis.carrotReturnUnseen(key, GROUP, "a", (await onlyEntry()).id)).toEqual([]);
    expect((await onlyEntry()).r).toBe("0");
    // Read, then reclaimed by another consumer (PEL count 2), which requeues it.
    await redis.xreadgroup("GROUP", GROUP, "a", "COUNT", 1, "STREAMS", key, ">");
    await redis.xautoclaim(key, GROUP, "b", 0, "0-0");
    expect(await redis.carrotRequeue(key, GROUP, "b", (await onlyEntry()).id)).toEqual([]);
    expect((await onlyEntry()).r).toBe("2");
    // Requeued again after one more read: 2 before it, plus this one.
    await redis.xreadgroup("GROUP", GROUP, "b", "COUNT", 1, "STREAMS", key, ">");
    expect(await redis.carrotRequeue(key, GROUP, "b", (await onlyEntry()).id)).toEqual([]);
    expect((await onlyEntry()).r).toBe("3");
  });
});
