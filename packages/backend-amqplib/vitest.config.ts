import { defineProject, mergeConfig } from "vitest/config";
import { sourceConditions } from "../../vitest.shared.js";

export default mergeConfig(
  sourceConditions,
  defineProject({
    test: {
      name: "backend-amqplib",
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      // RabbitMQ for the run (CARROT_AMQP_URL); the three-node cluster of
      // test/cluster/, when CARROT_RABBITMQ_CLUSTER=1.
      globalSetup: ["test/support/broker-setup.ts", "test/support/cluster-setup.ts"],
    },
  }),
);
