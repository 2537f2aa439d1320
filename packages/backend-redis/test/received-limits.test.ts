import { Connection, Consumer, TooLargeToDecodeError } from "@carrot/core";
import { afterAll, expect, it } from "vitest";
import { KeyLayout } from "../src/key-layout.js";
import { rawRedis, redisUrl, removeKeys, unique, uniquePrefix } from "./support/redis.js";

const prefix = uniquePrefix();
const raw = rawRedis();
afterAll(async () => {
  await removeKeys(prefix);
  raw.disconnect();
});

it("an entry over the backend's limit, written by another client, is refused, not decoded", async () => {
  // carrot's own sends are held to the limit before they leave; another client's XADD is not.
  const connection = new Connection(redisUrl(prefix, { maxMessageSize: 1024 }));
  try {
    const queue = unique("large");
    const consumer = new Consumer(connection, { queue });
    await consumer.declare();
    const stream = new KeyLayout(prefix).stream(queue);
    const envelope = JSON.stringify({ e: "", k: queue, c: "application/octet-stream" });
    await raw.xadd(stream, "*", "b", Buffer.alloc(1025), "m", envelope);
    await raw.xadd(stream, "*", "b", Buffer.alloc(1024), "m", envelope);

    const tooLarge = await consumer.fetch();
    expect(() => tooLarge?.decode()).toThrow(TooLargeToDecodeError);
    expect(() => tooLarge?.decode()).toThrow(
      /its body is 1025 bytes; this backend takes at most 1024/,
    );
    await tooLarge?.reject();
    const fits = await consumer.fetch();
    expect((fits?.payload as Uint8Array | undefined)?.byteLength).toBe(1024);
    await fits?.ack();
    expect(await consumer.fetch()).toBeNull();
  } finally {
    await connection.close();
  }
});
