/**
 * The test functions the suite registers its cases with. They are injected
 * (as keyv's test-suite takes `it`), so that the suite never imports a test
 * runner and a backend's own copy of vitest (or jest) is the one that runs.
 * The types are the small structural subset the suite uses.
 */

/** What the suite asserts with: the subset of vitest's / jest's `expect` it calls. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeInstanceOf(expected: unknown): void;
  toBeNull(): void;
  toHaveLength(length: number): void;
  toBeGreaterThan(value: number): void;
  toBeLessThanOrEqual(value: number): void;
  readonly not: Matchers;
}

export interface AsyncMatchers {
  toBeInstanceOf(expected: unknown): PromiseLike<void>;
  toBeUndefined(): PromiseLike<void>;
}

export type Expect = (
  actual: unknown,
  message?: string,
) => Matchers & {
  readonly rejects: AsyncMatchers;
  readonly resolves: AsyncMatchers;
};

/** The per-test context a runner passes to the test function; vitest's has `skip(note)`. */
export interface RunnerTestContext {
  skip?: (note?: string) => void;
}

export interface TestRunner {
  describe(name: string, body: () => void): void;
  it(name: string, test: (context: RunnerTestContext) => Promise<void>, timeout?: number): void;
  expect: Expect;
  beforeAll?(hook: () => Promise<void> | void, timeout?: number): void;
  afterAll?(hook: () => Promise<void> | void, timeout?: number): void;
}

/** vitest (with `globals: true`) and jest put these on globalThis. */
export function globalRunner(): TestRunner {
  const g = globalThis as Record<string, unknown>;
  const missing = ["describe", "it", "expect"].filter((name) => typeof g[name] !== "function");
  if (missing.length > 0) {
    throw new Error(
      `@carrot/conformance: no test runner globals (${missing.join(", ")} missing). ` +
        'Pass the runner: `import * as vitest from "vitest"; describeBackend(name, { runner: vitest, connect })`, ' +
        "or enable globals (vitest: test.globals = true).",
    );
  }
  return g as unknown as TestRunner;
}
