/**
 * Topic matching exactly as RabbitMQ does it.
 *
 * A routing key and a binding pattern are lists of words separated by dots.
 * The empty string is zero words, while "a..b" has an empty middle word.
 * In a pattern, `*` matches exactly one word (which may be empty) and `#`
 * matches zero or more words. (kombu's virtual matcher gets several of these
 * wrong; see the carrot reference notes.)
 *
 * The pattern is run as a small NFA over the key's words: linear in
 * words × pattern length, with no backtracking blow-up on many `#`s.
 */

const compiled = new Map<string, readonly string[]>();
const COMPILED_LIMIT = 10_000;

function words(text: string): readonly string[] {
  return text === "" ? [] : text.split(".");
}

function patternWords(pattern: string): readonly string[] {
  let result = compiled.get(pattern);
  if (!result) {
    // Bounded so that a stream of distinct patterns cannot grow memory without limit.
    if (compiled.size >= COMPILED_LIMIT) compiled.clear();
    result = words(pattern);
    compiled.set(pattern, result);
  }
  return result;
}

/** Whether a topic binding's `pattern` takes `routingKey`, by the rules above. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  if (pattern === "#") return true;
  if (!pattern.includes("*") && !pattern.includes("#")) return pattern === routingKey;

  const pattern_ = patternWords(pattern);
  const key = words(routingKey);
  // active[i]: the first i pattern words have matched the key words read so far.
  const start = new Uint8Array(pattern_.length + 1);
  start[0] = 1;
  let active = closure(pattern_, start);
  for (const word of key) {
    const next = new Uint8Array(pattern_.length + 1);
    let any = false;
    for (let i = 0; i < pattern_.length; i++) {
      if (!active[i]) continue;
      const p = pattern_[i];
      if (p === "#") {
        next[i] = 1; // `#` swallows this word and may swallow more
        any = true;
      } else if (p === "*" || p === word) {
        next[i + 1] = 1;
        any = true;
      }
    }
    if (!any) return false;
    active = closure(pattern_, next);
  }
  return active[pattern_.length] === 1;
}

/** Adds the states reachable by letting each `#` match zero words. */
function closure(pattern: readonly string[], states: Uint8Array): Uint8Array {
  for (let i = 0; i < pattern.length; i++) {
    if (states[i] && pattern[i] === "#") states[i + 1] = 1;
  }
  return states;
}
