import { describe, expect, it, vi } from "vitest";

// The `/register` entry of a backend package: importing it registers the
// package's factory for each of its schemes, which is what a bundled
// application does instead of letting core load the package by name.
describe("@carrot/backend-memory/register", () => {
  it("registers the memory factory for its scheme", async () => {
    vi.resetModules();
    const core = await import("@carrot/core/backend");
    const register = vi.spyOn(core, "registerBackend");
    await import("@carrot/backend-memory/register");
    const { default: factory } = await import("@carrot/backend-memory");
    expect(register.mock.calls).toEqual([["memory", factory]]);
  });
});
