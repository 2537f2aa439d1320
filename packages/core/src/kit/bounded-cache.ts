// A cache keyed by what messages carry (routing keys, envelope texts) must
// not grow with them: a publisher that puts an id in every routing key
// would otherwise fill memory. This map empties itself when it reaches
// `max` entries. Emptying at once is cruder than LRU and enough for these
// caches: the hot entries are back after one miss each, and a hit costs one
// Map lookup, with no bookkeeping.

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

  delete(key: K): void {
    this.#entries.delete(key);
  }
}
