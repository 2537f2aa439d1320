import { Connection } from "@carrot/core";
import { describe, expect, it } from "vitest";
import { describeBackend } from "../src/index.js";

describe("describeBackend without a runner", () => {
  it("fails at once, saying how to pass one, when the runner's globals are absent", () => {
    // This project runs vitest without globals, so describe/it/expect are not on globalThis.
    expect(() => describeBackend("x", { connect: () => new Connection("memory://") })).toThrow(
      /Pass the runner/,
    );
  });
});
