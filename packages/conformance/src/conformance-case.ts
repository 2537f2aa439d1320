import type { ResolvedOptions } from "./options.js";
import type { RunnerTestContext } from "./runner.js";
import { CaseSkipped, TestKit } from "./test-kit.js";
import { withTimeout } from "./wait-for.js";

/** One black-box case: it gets a fresh TestKit (own names, own connections) per run. */
export interface ConformanceCase {
  /** Short, [a-z0-9-]: part of every name the case declares. */
  readonly id: string;
  /** What it proves; the test's title. */
  readonly title: string;
  /** The case's own deadline, in multiples of `timeoutMs` (default 6); clean-up has its own. */
  readonly budget?: number;
  /** The case itself: it asserts through `t.expect` and rejects to fail; the kit cleans up after it. */
  run(t: TestKit): Promise<void>;
}

/** A named set of cases, run as one `describe` ("routing", "delivery", ...). */
export interface ConformanceGroup {
  /** The title of the `describe` its cases run under. */
  readonly name: string;
  /** Run in this order, each as its own test. */
  readonly cases: readonly ConformanceCase[];
}

const DEFAULT_BUDGET = 6;
/** Clean-up's deadline, in multiples of `timeoutMs`: consumers close within one, deletes take the other. */
const CLEANUP_BUDGET = 2;

/**
 * The deadlines of one case: its run (declares included) and its clean-up,
 * each failing the case with the step it was stuck in, well before the
 * runner's own limit, which would only say that the file timed out.
 */
function deadlines(options: ResolvedOptions, conformanceCase: ConformanceCase) {
  // Stress copies share one broker, so they take longer together.
  const scale = options.timeoutMs * Math.max(1, options.stress / 2);
  const run = scale * (conformanceCase.budget ?? DEFAULT_BUDGET);
  const cleanup = scale * CLEANUP_BUDGET;
  return { run, cleanup, test: run + cleanup + options.timeoutMs };
}

/** Registers a group's cases as one `describe` of `it`s with the injected runner. */
export function registerGroup(options: ResolvedOptions, group: ConformanceGroup): void {
  const { runner } = options;
  runner.describe(group.name, () => {
    for (const conformanceCase of group.cases) {
      runner.it(
        conformanceCase.title,
        (context) => runCase(options, conformanceCase, context),
        deadlines(options, conformanceCase).test,
      );
    }
  });
}

/**
 * Registers a group the backend does not run as skipped, case by case, with
 * the reason in each title, so that a report shows what was not proven
 * rather than leaving it out (or counting it as passed).
 */
export function registerSkippedGroup(
  options: ResolvedOptions,
  group: ConformanceGroup,
  reason: string,
): void {
  const { runner } = options;
  runner.describe(group.name, () => {
    for (const { title } of group.cases) {
      if (runner.it.skip) runner.it.skip(`${title} [skipped: ${reason}]`, () => undefined);
      else runner.it(title, async (context) => skipOrFail(context, reason));
    }
  });
}

/**
 * Runs `stress` copies of the case at once, each with its own kit. Every
 * copy cleans up before the test ends, and the first failure is the test's.
 */
export async function runCase(
  options: ResolvedOptions,
  conformanceCase: ConformanceCase,
  context: RunnerTestContext | undefined,
): Promise<void> {
  const limits = deadlines(options, conformanceCase);
  const copies = Array.from({ length: options.stress }, () =>
    runCopy(options, conformanceCase, limits),
  );
  const outcomes = await Promise.allSettled(copies);
  const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
  const failure = failures.find((reason) => !(reason instanceof CaseSkipped));
  if (failure !== undefined) throw failure;
  const skipped = failures[0] as CaseSkipped | undefined;
  if (skipped) skipOrFail(context, skipped.message);
}

async function runCopy(
  options: ResolvedOptions,
  conformanceCase: ConformanceCase,
  limits: { run: number; cleanup: number },
): Promise<void> {
  const kit = new TestKit(options, conformanceCase.id);
  let failure: unknown;
  try {
    await withTimeout(
      (async () => {
        await kit.open();
        await conformanceCase.run(kit);
      })(),
      limits.run,
      `case '${conformanceCase.id}' to finish (its deadline)`,
      () => `stuck in: ${kit.step}`,
    );
  } catch (error) {
    failure = error;
  }
  try {
    await withTimeout(
      kit.cleanup(),
      limits.cleanup,
      `the clean-up of case '${conformanceCase.id}'`,
      () => `stuck in: ${kit.step}`,
    );
  } catch (error) {
    // A clean-up failure after a failed case would hide the real cause.
    if (failure === undefined || failure instanceof CaseSkipped) failure = error;
  }
  if (failure !== undefined) throw failure;
}

/**
 * Marks the test skipped with the runner's `context.skip(note)`. A runner
 * without one cannot report a skip, and a skipped case must never count as
 * passed: the test fails, saying why it did not run.
 */
function skipOrFail(context: RunnerTestContext | undefined, reason: string): void {
  if (context?.skip) {
    context.skip(reason);
    return;
  }
  throw new CaseSkipped(
    `not run: ${reason} (this runner's test context has no skip(note), so the case fails rather than pass unproven)`,
  );
}
