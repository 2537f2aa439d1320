import { describeBackend, publishRaw } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import * as vitest from "vitest";

const url = "memory://conformance";

// In-process, "another client" is code that calls the broker without carrot's Publisher.
const writer = new Connection(url);
vitest.afterAll(() => writer.close());

describeBackend("memory", {
  runner: vitest,
  connect: () => new Connection(url),
  hostile: { write: (queue, message) => publishRaw(writer, queue, message) },
  // Delays are timers in this process, late only by the event loop's lag (a
  // loaded two-core machine): far tighter than a networked broker's default.
  delayToleranceMs: 1_000,
});
