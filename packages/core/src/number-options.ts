import { InvalidOptionsError } from "./errors.js";

/** The values a number option takes. */
export interface NumberRange {
  /** The smallest value taken. */
  readonly min: number;
  /** No upper bound when absent; Infinity is refused all the same, unless `infinity` says what it means. */
  readonly max?: number;
  /** Fractions allowed (a growth factor); by default only whole numbers. */
  readonly fractional?: boolean;
  /** What is counted ("milliseconds", "seconds", "bytes"), for the message. */
  readonly unit?: string;
  /** Infinity is allowed, and means this ("to never give up"). */
  readonly infinity?: string;
}

/**
 * The longest delay a Node timer keeps: past it, setTimeout and setInterval
 * fire at once (with a warning), and some clients throw a RangeError, so no
 * option in milliseconds goes beyond it (about 24.8 days).
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A message's delay (`send(data, { delay })`, `message.retry({ delay })`): 0 is none. */
export const DELAY_RANGE: NumberRange = { min: 0, max: MAX_TIMER_MS, unit: "milliseconds" };

/**
 * `value` if it is a number in `range`; otherwise an InvalidOptionsError
 * naming the option, the value and the range. Undefined (not given) passes.
 */
export function checkNumber<V extends number | undefined>(
  name: string,
  value: V,
  range: NumberRange,
): V {
  if (value === undefined || inRange(value, range)) return value;
  throw outOfRange(name, range, shown(value));
}

/**
 * A number option written as text (a URL's query, an environment variable):
 * its value if it is a number in `range`; undefined when absent (null).
 * Blank text is not read as 0.
 */
export function numberFromText(
  name: string,
  text: string | null | undefined,
  range: NumberRange,
): number | undefined {
  if (text === null || text === undefined) return undefined;
  const value = text.trim() === "" ? Number.NaN : Number(text);
  if (inRange(value, range)) return value;
  throw outOfRange(name, range, `'${text.length > 40 ? `${text.slice(0, 40)}...` : text}'`);
}

function inRange(value: unknown, range: NumberRange): value is number {
  if (typeof value !== "number") return false;
  if (value === Number.POSITIVE_INFINITY) return range.infinity !== undefined;
  if (!(range.fractional ? Number.isFinite(value) : Number.isSafeInteger(value))) return false;
  return value >= range.min && value <= (range.max ?? Number.POSITIVE_INFINITY);
}

function outOfRange(name: string, range: NumberRange, got: string): InvalidOptionsError {
  const kind = range.fractional ? "a finite number" : "a whole number";
  const unit = range.unit ? ` of ${range.unit}` : "";
  const bounds = range.max === undefined ? `>= ${range.min}` : `from ${range.min} to ${range.max}`;
  const infinity = range.infinity ? `, or Infinity ${range.infinity}` : "";
  return new InvalidOptionsError(`${name} must be ${kind}${unit} ${bounds}${infinity}, got ${got}`);
}

/** A value of the wrong type, shown short: a number as such (NaN, not JSON's null), else its type. */
function shown(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return `${JSON.stringify(value.slice(0, 40))} (a string)`;
  return value === null ? "null" : `a ${typeof value}`;
}
