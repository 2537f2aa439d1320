import { defineProject, mergeConfig } from "vitest/config";
import { sourceConditions } from "../../vitest.shared.js";

export default mergeConfig(
  sourceConditions,
  defineProject({
    test: {
      name: "backend-sqs",
      include: ["test/**/*.test.ts"],
      // Starts the fauxqs emulator (or uses CARROT_SQS_ENDPOINT) for the whole run.
      globalSetup: ["test/fauxqs-setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }),
);
