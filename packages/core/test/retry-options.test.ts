import { describe, expect, it } from "vitest";
import { Connection } from "../src/connection.js";
import { Consumer, type ConsumerOptions } from "../src/consumer.js";
import { InvalidOptionsError } from "../src/errors.js";
import { resolveRetryPolicy } from "../src/retry-policy.js";

// The consumer's `retry` option fails at construction, with InvalidOptionsError
// naming the option and what to write (these tests never connect).
const connection = new Connection({ url: "memory://never-connected" });

describe("the retry option", () => {
  it.each<[ConsumerOptions, RegExp]>([
    [
      { retry: { attemps: 3 } as never },
      /unknown option 'attemps' in retry; did you mean 'attempts'\?/,
    ],
    [
      { retry: { max_attempts: 3 } as never },
      /unknown option 'max_attempts' in retry; the options are: attempts, backoff, exhausted/,
    ],
    [
      { retry: { backoff: { inital: 10 } } as never },
      /unknown option 'inital' in retry.backoff; did you mean 'initial'\?/,
    ],
    [
      { retry: { backoff: { jiter: "none" } } as never },
      /unknown option 'jiter' in retry.backoff; did you mean 'jitter'\?/,
    ],
    [{ retry: "5" as never }, /the options in retry must be an object, got string/],
    [{ retry: { backoff: null } as never }, /the options in retry.backoff must be an object/],
    [{ retry: { attempts: 0 } }, /retry.attempts must be a whole number >= 1, or Infinity .*got 0/],
    [{ retry: { attempts: 2.5 } }, /retry.attempts .* got 2.5/],
    [{ retry: { attempts: Number.NaN } }, /retry.attempts .* got NaN/],
    [
      { retry: { backoff: { initial: -1 } } },
      /retry.backoff.initial must be a whole number of milliseconds from 0 to 2147483647, got -1/,
    ],
    [{ retry: { backoff: { max: 2 ** 31 } } }, /retry.backoff.max .* got 2147483648/],
    [{ retry: { backoff: { max: 1.5 } } }, /retry.backoff.max .* got 1.5/],
    [
      { retry: { backoff: { factor: 0.5 } } },
      /retry.backoff.factor must be a finite number >= 1, got 0.5/,
    ],
    [
      { retry: { backoff: { factor: Number.POSITIVE_INFINITY } } },
      /retry.backoff.factor .* got Infinity/,
    ],
    [
      { retry: { backoff: { jitter: "ful" as never } } },
      /retry.backoff.jitter must be "full", "equal" or "none", got "ful"/,
    ],
    [
      { retry: { exhausted: "dlq" as never } },
      /retry.exhausted must be "dead-letter", "failed-queue" or "drop", got "dlq"/,
    ],
    [
      { retry: { exhausted: "dead-letter" } },
      /no dead-letter exchange: set queueArguments.deadLetterExchange, or use exhausted: "failed-queue"/,
    ],
    [
      { noAck: true, retry: { attempts: 2 } },
      /retry needs acknowledgements, and a noAck consumer has none/,
    ],
  ])("refuses %j", (options, message) => {
    const make = () => new Consumer(connection, { queue: "q", ...options });
    expect(make).toThrow(InvalidOptionsError);
    expect(make).toThrow(message);
  });

  it("is checked in static defaults too", () => {
    class Impatient extends Consumer {
      static override defaults = { queue: "q", retry: { attempts: 0 } };
    }
    expect(() => new Impatient(connection)).toThrow(/retry.attempts .* got 0/);
  });

  it("takes Infinity attempts, an initial of 0, a fractional factor", () => {
    expect(
      () =>
        new Consumer(connection, {
          queue: "q",
          retry: { attempts: Number.POSITIVE_INFINITY, backoff: { initial: 0, factor: 1.5 } },
        }),
    ).not.toThrow();
  });
});

describe("the policy in force", () => {
  it("defaults: 3 attempts, 1 s doubling to 60 s with full jitter, the failed queue", () => {
    expect(resolveRetryPolicy(undefined, undefined, false)).toEqual({
      attempts: 3,
      backoff: { initial: 1_000, factor: 2, max: 60_000, jitter: "full" },
      exhausted: "failed-queue",
    });
  });

  it("exhausts to the dead-letter exchange by default when the queue has one", () => {
    expect(resolveRetryPolicy({}, { deadLetterExchange: "dlx" }, false).exhausted).toBe(
      "dead-letter",
    );
    expect(
      resolveRetryPolicy({ exhausted: "failed-queue" }, { deadLetterExchange: "dlx" }, false)
        .exhausted,
    ).toBe("failed-queue");
  });

  it("keeps the defaults of the backoff fields not given (undefined counts as not given)", () => {
    expect(
      resolveRetryPolicy({ backoff: { initial: 10, jitter: undefined } }, {}, false).backoff,
    ).toEqual({ initial: 10, factor: 2, max: 60_000, jitter: "full" });
  });

  it("a noAck consumer without the option is no error: it has nothing to retry", () => {
    expect(() => new Consumer(connection, { queue: "q", noAck: true })).not.toThrow();
  });
});
