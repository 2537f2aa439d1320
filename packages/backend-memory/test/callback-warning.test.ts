import { randomUUID } from "node:crypto";
import { deferred } from "@carrot/conformance";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { afterEach, expect, it, vi } from "vitest";

const connection = new Connection(`memory://callback-warning-${randomUUID()}`);
afterEach(async () => {
  vi.restoreAllMocks();
  await connection.close();
});

interface WarningOptions {
  type?: string;
  detail?: string;
}

/** What Node prints for a warning, less its "(node:pid) [code]" prefix: "name: message", then `detail`. */
function printed(warning: string | Error, options?: WarningOptions): string {
  const [head, detail] =
    typeof warning === "string"
      ? [`${options?.type ?? "Warning"}: ${warning}`, options?.detail]
      : [String(warning), (warning as WarningOptions).detail];
  return detail === undefined ? head : `${head}\n${detail}`;
}

it("a callback error with no error listener is a process warning that shows the callback's error and its stack", async () => {
  const warned = deferred<string>();
  vi.spyOn(process, "emitWarning").mockImplementation(((
    warning: string | Error,
    options?: WarningOptions,
  ) => warned.resolve(printed(warning, options))) as typeof process.emitWarning);
  const thrown = new TypeError("the feed has no title");
  const consumer = new Consumer<string>(connection, { queue: "q" });
  consumer.registerCallback(() => {
    throw thrown;
  });
  const waiting = consumer.wait({ limit: 1 });
  await consumer.declare();
  await new Publisher(connection, { routingKey: "q" }).send("untitled");
  const text = await warned.promise;
  await waiting;
  expect(text).toMatch(
    /CallbackError: a callback on 'q' threw; the message was retried in \d+ ms \(attempt 1 of 3\)/,
  );
  expect(text).toContain("TypeError: the feed has no title");
  expect(text).toContain(thrown.stack!.split("\n")[1]!.trim());
});
