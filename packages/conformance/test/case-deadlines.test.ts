import { MemoryBackend, MemoryBroker } from "@carrot/backend-memory";
import { Connection } from "@carrot/core";
import type { Backend } from "@carrot/core/backend";
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import { type ConformanceCase, runCase } from "../src/conformance-case.js";
import { resolveOptions } from "../src/options.js";
import { CaseSkipped } from "../src/test-kit.js";

// How a case fails when something hangs or is skipped: within its own
// deadlines, naming the step, and never as a pass.

const never = () => new Promise<never>(() => undefined);

/** A memory connection with some of its backend's methods replaced. */
function connectWith(overrides: Partial<Backend>): () => Connection {
  const broker = new MemoryBroker();
  return () => {
    const backend = new MemoryBackend({ broker });
    Object.assign(backend, overrides);
    return new Connection({ backend });
  };
}

const declaresAndCloses: ConformanceCase = {
  id: "declares",
  title: "declares a consumer",
  async run(t) {
    await t.collect(t.consumer(t.main, { queue: t.name("q") }));
  },
};

const skips: ConformanceCase = {
  id: "skips",
  title: "skips",
  async run(t) {
    t.skip("nothing to prove here");
  },
};

const options = (connect: () => Connection) =>
  resolveOptions({ connect, runner: vitest, timeoutMs: 300 });

describe("a case's own deadlines", () => {
  it("a hanging declare fails the case naming the declare", async () => {
    const run = runCase(
      options(connectWith({ declareQueue: never })),
      declaresAndCloses,
      undefined,
    );
    await expect(run).rejects.toThrow(/waiting for declare of the consumer of 'carrot-t-/);
  });

  it("a hanging clean-up fails the case naming the step, after a case that passed", async () => {
    const run = runCase(options(connectWith({ deleteQueue: never })), declaresAndCloses, undefined);
    await expect(run).rejects.toThrow(
      /clean-up of case 'declares'.*stuck in: clean-up: delete of queue/,
    );
  });

  it("a skip is never a pass: without a context skip(note), the case fails saying why", async () => {
    const run = runCase(options(connectWith({})), skips, undefined);
    await expect(run).rejects.toThrow(CaseSkipped);
    await expect(run).rejects.toThrow(/not run: nothing to prove here/);
  });

  it("a skip goes to the runner's context skip(note) when it has one", async () => {
    const notes: (string | undefined)[] = [];
    await runCase(options(connectWith({})), skips, { skip: (note) => notes.push(note) });
    expect(notes).toEqual(["nothing to prove here"]);
  });
});
