import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { capabilityDescriptions } from "../capability-descriptions.js";
import { BACKEND_COLUMNS } from "../capability-sources.js";

const contract = fileURLToPath(new URL("../../../packages/core/src/contract.ts", import.meta.url));

describe("capabilityDescriptions", () => {
  const rows = capabilityDescriptions(contract);

  it("has a row for every capability any backend declares, each with a sentence", () => {
    const declared = new Set(
      BACKEND_COLUMNS.flatMap((column) =>
        column.variants.flatMap((variant) => Object.keys(variant.capabilities)),
      ),
    );
    const names = rows.map((row) => row.name);
    for (const name of declared) expect(names).toContain(name);
    for (const row of rows) expect(row.summary).toMatch(/^\S.*\.$/);
  });

  it("ends the summary at the first full stop outside code", () => {
    const priority = rows.find((row) => row.name === "priority");
    expect(priority?.summary).toBe(
      "`maxPriority` queues deliver higher priorities first (AMQP order: higher number, sooner).",
    );
  });
});
