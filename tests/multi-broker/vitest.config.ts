import { defineProject, mergeConfig } from "vitest/config";
import { sourceConditions } from "../../vitest.shared.js";

export default mergeConfig(
  sourceConditions,
  defineProject({
    test: {
      name: "multi-broker",
      include: ["**/*.test.ts"],
      // RabbitMQ, Redis and SQS (fauxqs) for the run, found or started.
      globalSetup: ["../../examples/support/broker-setup.ts"],
      // Above each test's own waits (a redelivery after a lease: 5 s on SQS;
      // a child Node process compiling the sources: seconds on a loaded
      // machine), so that those fail first and say what they waited for.
      testTimeout: 90_000,
      hookTimeout: 30_000,
    },
  }),
);
