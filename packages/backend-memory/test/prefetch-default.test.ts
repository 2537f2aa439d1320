import { Connection, Consumer } from "@carrot/core";
import type { ConsumeOptions } from "@carrot/core/backend";
import { expect, it } from "vitest";
import { MemoryBackend } from "../src/index.js";

/** A memory backend that records the options each subscription asked for. */
function recording(): { connection: Connection; asked: ConsumeOptions[] } {
  const backend = new MemoryBackend();
  const asked: ConsumeOptions[] = [];
  const consume = backend.consume.bind(backend);
  backend.consume = (queue, options, ...rest) => {
    asked.push(options);
    return consume(queue, options, ...rest);
  };
  return { connection: new Connection({ backend }), asked };
}

it.each([
  [undefined, 100],
  [0, 0],
  [7, 7],
])(
  "prefetchCount %s subscribes with prefetch %s (bounded by default; 0 is unlimited by choice)",
  async (prefetchCount, prefetch) => {
    const { connection, asked } = recording();
    try {
      const consumer = new Consumer(connection, {
        queue: "q",
        ...(prefetchCount === undefined ? {} : { prefetchCount }),
      });
      consumer.registerCallback((_data, message) => message.ack());
      const waiting = consumer.wait();
      await consumer.cancel();
      await waiting;
      expect(asked.map((o) => o.prefetch)).toEqual([prefetch]);
    } finally {
      await connection.close();
    }
  },
);
