import { randomUUID } from "node:crypto";
import {
  assertSameExchange,
  assertSameQueue,
  type BindingDeclaration,
  type ExchangeBindings,
  type ExchangeDeclaration,
  type Headers,
  type HeadersJson,
  headersFromJson,
  headersToJson,
  NotFoundError,
  type QueueDeclaration,
  RouteCache,
  type RoutingDecision,
} from "@carrot/core/backend";
import type { KeyLayout } from "./key-layout.js";
import type { ScriptedRedis } from "./lua-scripts.js";

/**
 * Exchanges, queues and bindings, kept in Redis so that every process sees
 * the same table. Publishers route with core's route cache over a local copy
 * of an exchange's bindings at its version (`{carrot}:version:<exchange>`);
 * the publish script checks that version and the caller drops the copy and
 * routes again when it is stale.
 */
export class TopologyStore {
  readonly #routes = new RouteCache();
  /**
   * The read of each exchange's bindings in flight: the publishes that miss
   * the cache together (a window of sends to a new exchange) share one read
   * instead of each making its own (five commands and a parse of every
   * binding each: a tenth of a fan-out's client time).
   */
  readonly #loads = new Map<string, Promise<void>>();
  readonly #queueDeclarations = new Map<string, QueueDeclaration>();

  constructor(
    readonly redis: ScriptedRedis,
    readonly keys: KeyLayout,
  ) {}

  async declareExchange(exchange: ExchangeDeclaration): Promise<void> {
    const json = JSON.stringify(exchange);
    const created = await this.redis.hsetnx(this.keys.exchanges(), exchange.name, json);
    if (created === 1) return;
    const existing = await this.redis.hget(this.keys.exchanges(), exchange.name);
    if (existing) assertSameExchange(JSON.parse(existing) as ExchangeDeclaration, exchange);
  }

  async deleteExchange(name: string): Promise<void> {
    // The version goes too: a cache of the old bindings reads an absent version as stale.
    await this.redis
      .multi()
      .hdel(this.keys.exchanges(), name)
      .del(this.keys.bindings(name), this.keys.version(name))
      .exec();
    this.#forget(name);
  }

  async declareQueue(queue: QueueDeclaration): Promise<void> {
    const { messageTtl, maxLength, deadLetterExchange } = queue.arguments;
    const existing = await this.redis.carrotDeclareQueue(
      this.keys.queueMeta(queue.name),
      this.keys.stream(queue.name),
      this.keys.group,
      JSON.stringify(queue),
      messageTtl === undefined ? "" : String(messageTtl),
      maxLength === undefined ? "" : String(maxLength),
      deadLetterExchange === undefined ? "" : "1",
    );
    if (existing) assertSameQueue(JSON.parse(existing) as QueueDeclaration, queue);
    this.#queueDeclarations.set(queue.name, queue);
  }

  /** The queue's declaration (cached: a queue's settings never change while it exists). */
  async queue(name: string): Promise<QueueDeclaration> {
    const cached = this.#queueDeclarations.get(name);
    if (cached) return cached;
    const json = await this.redis.hget(this.keys.queueMeta(name), "decl");
    if (!json) throw missing("queue", name);
    const declaration = JSON.parse(json) as QueueDeclaration;
    this.#queueDeclarations.set(name, declaration);
    return declaration;
  }

  /** Fails with NotFoundError unless the queue exists now (not from the cache). */
  async assertQueueExists(name: string): Promise<void> {
    if ((await this.redis.exists(this.keys.queueMeta(name))) === 0) {
      this.#queueDeclarations.delete(name);
      throw missing("queue", name);
    }
  }

  /** `passive`: the exchange is declared; `NotFoundError` otherwise. */
  async assertExchangeExists(name: string): Promise<void> {
    if ((await this.redis.hexists(this.keys.exchanges(), name)) === 0)
      throw missing("exchange", name);
  }

  async deleteQueue(name: string): Promise<void> {
    await this.assertQueueExists(name);
    const exchanges = await this.redis.smembers(this.keys.queueBound(name));
    await this.redis.del(
      this.keys.stream(name),
      this.keys.queueMeta(name),
      this.keys.queueBound(name),
      this.keys.dead(name),
    );
    await this.redis.zrem(this.keys.due(), name);
    this.#queueDeclarations.delete(name);
    for (const exchange of exchanges) {
      const bindings = await this.redis.hgetall(this.keys.bindings(exchange));
      const mine = Object.keys(bindings).filter((field) => bindings[field] === name);
      // None left when the exchange was deleted first: nothing changed, and no version to write.
      if (mine.length > 0) await this.#changeBindings(exchange, "del", mine);
    }
  }

  async bind(binding: BindingDeclaration): Promise<void> {
    await this.#assertBindable(binding);
    const field = bindingField(binding);
    if (!(await this.#changeBindings(binding.exchange, "set", [field, binding.queue]))) {
      throw missing("exchange", binding.exchange);
    }
    await this.redis.sadd(this.keys.queueBound(binding.queue), binding.exchange);
  }

  async unbind(binding: BindingDeclaration): Promise<void> {
    await this.#assertBindable(binding);
    if (!(await this.#changeBindings(binding.exchange, "del", [bindingField(binding)]))) {
      throw missing("exchange", binding.exchange);
    }
  }

  /** Routes with the cached bindings; undefined when the exchange's bindings are not cached. */
  routeCached(exchange: string, routingKey: string, headers: Headers): RoutingDecision | undefined {
    return this.#routes.route(exchange, routingKey, headers);
  }

  /** Routes, reading the exchange's bindings from Redis first when they are not cached. */
  async route(exchange: string, routingKey: string, headers: Headers): Promise<RoutingDecision> {
    const cached = this.routeCached(exchange, routingKey, headers);
    if (cached) return cached;
    await this.#loadOnce(exchange);
    // Not cached when its bindings changed meanwhile (the read was dropped, or its copy): read them again.
    return (
      this.routeCached(exchange, routingKey, headers) ?? this.route(exchange, routingKey, headers)
    );
  }

  /** Called when a publish found the version changed: the next route re-reads. */
  invalidate(exchange: string): void {
    this.#forget(exchange);
  }

  /** Drops the cached bindings, and the read in flight: a route after this reads them anew. */
  #forget(exchange: string): void {
    this.#routes.forget(exchange);
    this.#loads.delete(exchange);
  }

  /**
   * Sets (`set`: field, queue pairs) or deletes (`del`: fields) bindings of
   * the exchange together with a new version, while the exchange exists;
   * false when it does not (deleted meanwhile: then nothing is written).
   * A random version, not a count: a count restarts when the exchange is
   * deleted (its version with it) and declared again, and could then equal
   * the version a stale cache of the old bindings holds.
   */
  async #changeBindings(exchange: string, op: "set" | "del", fields: string[]): Promise<boolean> {
    const changed = await this.redis.carrotChangeBindings(
      this.keys.exchanges(),
      this.keys.bindings(exchange),
      this.keys.version(exchange),
      exchange,
      randomUUID(),
      op,
      ...fields,
    );
    this.#forget(exchange);
    return changed === 1;
  }

  /**
   * Reads the exchange's bindings into the cache, joining the read in
   * flight if there is one. A read dropped meanwhile (the bindings changed)
   * caches nothing: it may hold the old ones.
   */
  #loadOnce(exchange: string): Promise<void> {
    const inFlight = this.#loads.get(exchange);
    if (inFlight) return inFlight;
    const load = this.#read(exchange).then(
      (table) => {
        if (this.#loads.get(exchange) !== load) return;
        this.#loads.delete(exchange);
        this.#routes.remember(exchange, table);
      },
      (error: unknown) => {
        if (this.#loads.get(exchange) === load) this.#loads.delete(exchange);
        throw error;
      },
    );
    this.#loads.set(exchange, load);
    return load;
  }

  /** The exchange's bindings and their version, read together. */
  async #read(exchange: string): Promise<ExchangeBindings> {
    const results = await this.redis
      .multi()
      .get(this.keys.version(exchange))
      .hget(this.keys.exchanges(), exchange)
      .hgetall(this.keys.bindings(exchange))
      .exec();
    const [version, declaration, bindings] = (results ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    }) as [string | null, string | null, Record<string, string>];
    if (!declaration) throw missing("exchange", exchange);
    return {
      version: version ?? "0",
      type: (JSON.parse(declaration) as ExchangeDeclaration).type,
      bindings: Object.entries(bindings).map(([field, queue]) => {
        const { k, a } = JSON.parse(field) as { k: string; a?: HeadersJson };
        return { queue, exchange, routingKey: k, arguments: a && headersFromJson(a) };
      }),
    };
  }

  async #assertBindable(binding: BindingDeclaration): Promise<void> {
    if (binding.exchange === "") {
      throw new NotFoundError(
        "the default exchange ('') cannot be bound: it routes to the queue named by the routing key",
      );
    }
    await this.assertQueueExists(binding.queue);
    await this.assertExchangeExists(binding.exchange);
  }
}

/** One binding's field in the exchange's hash: the queue is the value. */
function bindingField(binding: BindingDeclaration): string {
  const args = sortedKeys(binding.arguments);
  return JSON.stringify({
    q: binding.queue,
    k: binding.routingKey,
    a: args && headersToJson(args),
  });
}

function sortedKeys(args: Headers | undefined): Headers | undefined {
  if (!args || Object.keys(args).length === 0) return undefined;
  return Object.fromEntries(Object.entries(args).sort(([x], [y]) => (x < y ? -1 : 1)));
}

function missing(kind: "exchange" | "queue", name: string): NotFoundError {
  return new NotFoundError(
    `no ${kind} named '${name}': declare it before binding or publishing to it`,
  );
}
