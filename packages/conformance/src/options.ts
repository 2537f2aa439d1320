import type { Connection } from "@carrot/core";
import { globalRunner, type TestRunner } from "./runner.js";

export interface SuiteOptions {
  /**
   * A new, not yet connected Connection on every call: the suite opens
   * several per case (a publisher and a consumer "in two processes", a
   * reconnect) and closes every one it opens.
   */
  connect: () => Connection;
  /** describe / it / expect; by default the runner's globals (vitest `globals: true`, jest). */
  runner?: TestRunner;
  /** Run every case this many times at once on one broker, each copy with its own names. */
  stress?: number;
  /** Milliseconds any one wait may take before it fails the test (default 10 000). */
  timeoutMs?: number;
  /** Reserved for the network fault cases (a fault-injecting proxy); not used yet. */
  faults?: undefined;
}

export interface ResolvedOptions {
  connect: () => Connection;
  runner: TestRunner;
  stress: number;
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export function resolveOptions(options: SuiteOptions): ResolvedOptions {
  if (typeof options?.connect !== "function") {
    throw new Error(
      "@carrot/conformance: options.connect must be a function returning a new Connection",
    );
  }
  const stress = options.stress ?? 1;
  if (!(Number.isInteger(stress) && stress >= 1))
    throw new Error(`@carrot/conformance: stress must be a whole number >= 1, got ${stress}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0))
    throw new Error(`@carrot/conformance: timeoutMs must be > 0, got ${timeoutMs}`);
  return {
    connect: options.connect,
    runner: options.runner ?? globalRunner(),
    stress,
    timeoutMs,
  };
}
