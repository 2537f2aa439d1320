import { expect } from "vitest";
import { SettingsError } from "../../src/index.js";

/** The SettingsError `run` throws or rejects with; the test fails if it succeeds or fails otherwise. */
export async function settingsFailure(run: () => unknown): Promise<SettingsError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error("expected a SettingsError");
}
