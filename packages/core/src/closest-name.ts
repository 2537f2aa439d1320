/**
 * The known name `given` most likely meant, or undefined when none is close
 * enough to suggest. Names are compared without case, "_" and "-", so that
 * the snake_case of other clients (`prefetch_count`) finds carrot's
 * camelCase (`prefetchCount`); then by Damerau-Levenshtein distance (a swap
 * of two neighbouring letters is one edit), allowing one edit in a short
 * name and two in a longer one: typing slips, not other words that share a
 * start (`connection_attempts` is not `connection_timeout`). A name that the name given begins, or that
 * begins it, comes before one a few edits away, if it is the only one:
 * `host` is `hostname` cut short rather than `vhost` misspelt.
 */
export function closestName(given: string, known: Iterable<string>): string | undefined {
  const key = normalise(given);
  const allowed = key.length < 6 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  const prefixed: string[] = [];
  for (const name of known) {
    const other = normalise(name);
    const distance = editDistance(key, other, bestDistance);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
    const [shorter, longer] = key.length < other.length ? [key, other] : [other, key];
    if (shorter.length >= 4 && longer.startsWith(shorter)) prefixed.push(name);
  }
  if (bestDistance > 0 && prefixed.length === 1) return prefixed[0];
  return best;
}

function normalise(name: string): string {
  return name.replace(/[_-]/g, "").toLowerCase();
}

/**
 * The optimal-string-alignment distance from `a` to `b`, or `limit` when it
 * is at least that: names whose lengths differ by `limit` or more are not
 * compared, so a hostile megabyte-long key costs nothing.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  // Three rows of the dynamic-programming table: the two before, for swaps.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      current[j] = d;
    }
    [before, previous, current] = [previous, current, before];
  }
  return Math.min(previous[b.length]!, limit);
}
