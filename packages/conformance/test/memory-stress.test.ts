import { Connection } from "@carrot/core";
import * as vitest from "vitest";
import { describeBackend } from "../src/index.js";

// Stress mode, as Watermill's stress test: every case four times at once on
// one broker, each copy with its own names, to shake out races in the suite
// and in core. (backend-memory runs the plain suite in its own package.)
describeBackend("memory, stress x4", {
  runner: vitest,
  stress: 4,
  connect: () => new Connection("memory://conformance-stress"),
});
