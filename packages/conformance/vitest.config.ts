import { defineProject, mergeConfig } from "vitest/config";
import { sourceConditions } from "../../vitest.shared.js";

export default mergeConfig(
  sourceConditions,
  defineProject({
    test: {
      name: "conformance",
      include: ["test/**/*.test.ts"],
      // RabbitMQ for broken-faults.test.ts (CARROT_AMQP_URL): found, or started.
      globalSetup: ["test/support/broker-setup.ts"],
    },
  }),
);
