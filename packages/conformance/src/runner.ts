/**
 * The test functions the suite registers its cases with. They are injected
 * (as keyv's test-suite takes `it`), so that the suite never imports a test
 * runner and a backend's own copy of vitest (or jest) is the one that runs.
 * The types are the small structural subset the suite uses.
 */

/** What the suite asserts with: the subset of vitest's / jest's `expect` it calls. */
export interface Matchers {
  /** `Object.is` equality. */
  toBe(expected: unknown): void;
  /** Deep equality. */
  toEqual(expected: unknown): void;
  /** `actual instanceof expected`. */
  toBeInstanceOf(expected: unknown): void;
  /** `actual === null`. */
  toBeNull(): void;
  /** `actual.length === length`. */
  toHaveLength(length: number): void;
  /** `actual > value`. */
  toBeGreaterThan(value: number): void;
  /** `actual <= value`. */
  toBeLessThanOrEqual(value: number): void;
  /** The same matchers, negated. */
  readonly not: Matchers;
}

/** The matchers the suite awaits on a promise, after `.rejects` or `.resolves`. */
export interface AsyncMatchers {
  /** The settled value (or rejection reason) is an instance of `expected`. */
  toBeInstanceOf(expected: unknown): PromiseLike<void>;
  /** The settled value is undefined. */
  toBeUndefined(): PromiseLike<void>;
}

/** vitest's or jest's `expect`, as far as the suite uses it; `message` names the check in a failure. */
export type Expect = (
  actual: unknown,
  message?: string,
) => Matchers & {
  /** Asserts on the reason the promise `actual` rejects with (fails if it resolves). */
  readonly rejects: AsyncMatchers;
  /** Asserts on the value the promise `actual` resolves to (fails if it rejects). */
  readonly resolves: AsyncMatchers;
};

/** The per-test context a runner passes to the test function; vitest's has `skip(note)`. */
export interface RunnerTestContext {
  /** Ends the running test as skipped, with `note` as the reason. */
  skip?: (note?: string) => void;
}

/** `it`, and `it.skip` where the runner has it (vitest, jest): a test registered as skipped. */
export interface TestFunction {
  (name: string, test: (context: RunnerTestContext) => Promise<void>, timeout?: number): void;
  /** Registers a test reported as skipped: the suite shows groups a backend does not run this way. */
  skip?: (name: string, test: () => void) => void;
}

/**
 * The test runner the suite registers with: `import * as vitest from "vitest"`
 * fits, as do jest's globals; another runner needs only these functions.
 */
export interface TestRunner {
  /** Groups the tests `body` registers under `name`. */
  describe(name: string, body: () => void): void;
  /** Registers one test (see {@link TestFunction}). */
  it: TestFunction;
  /** Every assertion of the suite goes through it, never through a copy the suite imports. */
  expect: Expect;
  /** Taken so that a runner's module passes as it is; the suite registers no hooks today. */
  beforeAll?(hook: () => Promise<void> | void, timeout?: number): void;
  /** Taken so that a runner's module passes as it is; the suite registers no hooks today. */
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
