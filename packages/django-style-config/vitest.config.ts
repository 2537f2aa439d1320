import { defineProject, mergeConfig } from "vitest/config";
import { sourceConditions } from "../../vitest.shared.js";

export default mergeConfig(
  sourceConditions,
  defineProject({
    test: {
      name: "django-style-config",
      include: ["test/**/*.test.ts"],
      // RabbitMQ for rabbitmq.test.ts (CARROT_AMQP_URL): found, or started.
      globalSetup: ["test/support/broker-setup.ts"],
      // Connects, declares and consumes on a real broker: room for a loaded 2-core machine.
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }),
);
