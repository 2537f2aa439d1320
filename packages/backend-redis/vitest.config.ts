import { defineProject, mergeConfig } from "vitest/config";
import { sourceConditions } from "../../vitest.shared.js";

export default mergeConfig(
  sourceConditions,
  defineProject({
    test: {
      name: "backend-redis",
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      // Redis for the run (CARROT_REDIS_URL): found, or started; the Redis
      // Cluster of test/cluster/, when CARROT_REDIS_CLUSTER=1.
      globalSetup: ["test/support/broker-setup.ts", "test/support/cluster-setup.ts"],
    },
  }),
);
