/** What a `DueHeap` orders by: when an entry is due, then which came first. */
export interface Due {
  /** Epoch milliseconds from which the entry is due. */
  readonly dueAt: number;
  /** Arrival order, so that entries due at the same moment leave in the order they came. */
  readonly seq: number;
}

function before(a: Due, b: Due): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}

/**
 * A binary min-heap of entries by due time: adding and taking the earliest
 * are O(log n), so that a broker holding many delayed messages finds the next
 * one due without sorting, and a short delay is never queued behind a long one.
 */
export class DueHeap<T extends Due> {
  readonly #entries: T[] = [];

  /** The earliest entry, left in place. */
  peek(): T | undefined {
    return this.#entries[0];
  }

  push(entry: T): void {
    const entries = this.#entries;
    let i = entries.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, entries[parent]!)) break;
      entries[i] = entries[parent]!;
      i = parent;
    }
    entries[i] = entry;
  }

  /** Takes the earliest entry. */
  shift(): T | undefined {
    const entries = this.#entries;
    const first = entries[0];
    const last = entries.pop();
    if (entries.length === 0 || last === undefined) return first;
    // Sift the last entry down from the root into the place the first leaves.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= entries.length) break;
      const right = left + 1;
      const child =
        right < entries.length && before(entries[right]!, entries[left]!) ? right : left;
      if (!before(entries[child]!, last)) break;
      entries[i] = entries[child]!;
      i = child;
    }
    entries[i] = last;
    return first;
  }
}
