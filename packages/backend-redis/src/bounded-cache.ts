/**
 * A map that empties itself when it reaches `max` entries, for caches keyed
 * by what messages carry (routing keys, envelope texts), which may be
 * unbounded. Emptying at once is cruder than LRU and enough here: the hot
 * entries are back after one miss each.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly max: number) {}

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): void {
    if (this.#entries.size >= this.max) this.#entries.clear();
    this.#entries.set(key, value);
  }

  /** The cached value, or `make()`'s, cached. */
  getOrAdd(key: K, make: () => V): V {
    let value = this.#entries.get(key);
    if (value === undefined) {
      value = make();
      this.set(key, value);
    }
    return value;
  }
}
