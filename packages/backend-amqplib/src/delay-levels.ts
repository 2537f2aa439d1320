import { InvalidOptionsError } from "@carrot/core/backend";

/**
 * Bits of a delay kept by its level: levels are every whole number of
 * milliseconds up to 2^DELAY_LEVEL_BITS, then `m * 2^e` for `m` in 8..15.
 * A delay is rounded UP to the next level, so a delayed message is never
 * early and less than 1/8 (12.5 %) late. The delays up to a minute fall on
 * 111 levels, up to a day on 195, up to core's longest (2^31 - 1 ms, about
 * 24.8 days) on 232: that many delay queues at most per target exchange.
 */
export const DELAY_LEVEL_BITS = 4;

/**
 * The longest delay, in milliseconds, whose level RabbitMQ takes as a queue's
 * `x-message-ttl` (it refuses more than 315,360,000,000 ms, ten years): the
 * largest level under that limit, 9 * 2^35 ms (about 9.8 years).
 */
export const MAX_DELAY_LEVEL = 9 * 2 ** 35;

const SMALLEST_ROUNDED = 2 ** DELAY_LEVEL_BITS;

/**
 * The delay level a delay of `ms` milliseconds waits for: the smallest level
 * that is not shorter (a fraction of a millisecond counts as a whole one).
 * Delays past {@link MAX_DELAY_LEVEL} are refused with `InvalidOptionsError`.
 */
export function delayLevel(ms: number): number {
  const delay = Math.max(1, Math.ceil(ms));
  if (!(delay <= MAX_DELAY_LEVEL)) {
    throw new InvalidOptionsError(
      `a delay of ${ms} ms is longer than RabbitMQ can hold a message in a queue; the amqplib backend delays up to ${MAX_DELAY_LEVEL} ms`,
    );
  }
  if (delay <= SMALLEST_ROUNDED) return delay;
  // The step between levels just below `delay`: 2^e with the mantissa in 8..15.
  const step = 2 ** (Math.floor(Math.log2(delay)) - (DELAY_LEVEL_BITS - 1));
  return Math.ceil(delay / step) * step;
}
