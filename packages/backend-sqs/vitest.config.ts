import { defineProject, mergeConfig } from "vitest/config";
import { sourceConditions } from "../../vitest.shared.js";

export default mergeConfig(
  sourceConditions,
  defineProject({
    test: {
      name: "backend-sqs",
      include: ["test/**/*.test.ts"],
      // SQS for the whole run (CARROT_SQS_ENDPOINT): found, or fauxqs started.
      globalSetup: ["test/fauxqs-setup.ts"],
      // Above the sum of a test's own deadlines, so that those fail first and
      // say what they waited for: kill.test.ts and delivery-count.test.ts give
      // a child Node process (tsx compiling the sources: seconds on a loaded
      // 2-core machine) 20 s to start and a redelivery 20 s more.
      testTimeout: 60_000,
      hookTimeout: 30_000,
    },
  }),
);
