import type { ResolvedOptions } from "./options.js";
import type { RunnerTestContext } from "./runner.js";
import { CaseSkipped, TestKit } from "./test-kit.js";

/** One black-box case: it gets a fresh TestKit (own names, own connections) per run. */
export interface ConformanceCase {
  /** Short, [a-z0-9-]: part of every name the case declares. */
  readonly id: string;
  /** What it proves; the test's title. */
  readonly title: string;
  /** The test's own time limit, in multiples of `timeoutMs` (default 6). */
  readonly budget?: number;
  run(t: TestKit): Promise<void>;
}

export interface ConformanceGroup {
  readonly name: string;
  readonly cases: readonly ConformanceCase[];
}

const DEFAULT_BUDGET = 6;

/** Registers a group's cases as one `describe` of `it`s with the injected runner. */
export function registerGroup(options: ResolvedOptions, group: ConformanceGroup): void {
  const { runner, stress, timeoutMs } = options;
  runner.describe(group.name, () => {
    for (const conformanceCase of group.cases) {
      runner.it(
        conformanceCase.title,
        (context) => runCase(options, conformanceCase, context),
        // Stress copies share one broker, so they take longer together.
        timeoutMs * (conformanceCase.budget ?? DEFAULT_BUDGET) * Math.max(1, stress / 2),
      );
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
  const skip = (note: string) => context?.skip?.(note);
  const copies = Array.from({ length: options.stress }, async () => {
    const kit = new TestKit(options, conformanceCase.id, skip);
    let failed = false;
    try {
      await kit.open();
      await conformanceCase.run(kit);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // A cleanup failure after a failed case would hide the real cause; report it only on success.
      await kit.cleanup().catch((error: unknown) => {
        if (!failed) throw error;
      });
    }
  });
  const outcomes = await Promise.allSettled(copies);
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (!failure) return;
  if (failure.reason instanceof CaseSkipped) {
    // The runner has no context skip: say why, and count the case as passed.
    console.info(
      `[@carrot/conformance] skipped '${conformanceCase.title}': ${failure.reason.message}`,
    );
    return;
  }
  throw failure.reason;
}
