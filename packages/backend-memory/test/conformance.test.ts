import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import * as vitest from "vitest";

describeBackend("memory", {
  runner: vitest,
  connect: () => new Connection("memory://conformance"),
});
