import type { Headers, HeaderValue } from "../contract.js";

/**
 * Headers-exchange matching as RabbitMQ does it. The binding's `x-match` is
 * "all" (the default) or "any"; "all-with-x"/"any-with-x" also compare
 * arguments whose names start with "x-", which the plain forms ignore.
 * A binding argument without a value (null) matches any value of that header.
 */
export function headersMatch(bindingArguments: Headers, messageHeaders: Headers): boolean {
  const mode = bindingArguments["x-match"] ?? "all";
  const withX = mode === "all-with-x" || mode === "any-with-x";
  const any = mode === "any" || mode === "any-with-x";

  for (const [name, expected] of Object.entries(bindingArguments)) {
    if (name === "x-match" || (!withX && name.startsWith("x-"))) continue;
    const present = Object.hasOwn(messageHeaders, name);
    const matched = present && (expected === null || sameValue(expected, messageHeaders[name]));
    if (any && matched) return true;
    if (!any && !matched) return false;
  }
  // Here "all" matched every argument (or there were none), and "any" matched none.
  return !any;
}

function sameValue(a: HeaderValue | undefined, b: HeaderValue | undefined): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  if (isTable(a) && isTable(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => sameValue(a[k], b[k]));
  }
  return false;
}

function isTable(value: HeaderValue | undefined): value is { readonly [key: string]: HeaderValue } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  );
}
