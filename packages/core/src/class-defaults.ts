/**
 * The TypeScript form of carrot's class attributes: a subclass sets
 * `static defaults = { exchange: "feed" }`, and every instance starts from the
 * defaults of its class and all its ancestors (nearest wins), which the
 * constructor's options then override.
 */
export function classDefaults<O extends object>(ctor: Function): Partial<O> {
  const chain: Partial<O>[] = [];
  for (let c: Function | null = ctor; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, "defaults"))
      chain.unshift((c as unknown as { defaults: Partial<O> }).defaults);
  }
  return Object.assign({}, ...chain);
}
