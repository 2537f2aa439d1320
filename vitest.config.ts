import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      "packages/*/vitest.config.ts",
      "examples/vitest.config.ts",
      "tests/multi-broker/vitest.config.ts",
      "scripts/docs/vitest.config.ts",
    ],
    // The JSON report is what .ci/run turns into its closing "N passed, N failed" line.
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
