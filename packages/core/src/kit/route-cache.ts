// Routing a publish through a virtual exchange needs the exchange's
// bindings, which a backend shared by several processes keeps on the
// broker; reading them for every publish is the slowest thing such a
// backend can do. Instead the backend keeps a version of each exchange's
// binding table that every bind, unbind and delete changes (Redis: a key
// its publish script checks atomically; SQS: each scan of the queue tags),
// and routes with a local copy of the bindings: each (exchange, version,
// routing key) is routed once, and the decision reused until the version
// changes. A decision is one object for as long as it is kept, so a batch
// of publishes can send each distinct route once, by identity.
//
// A headers exchange routes on each message's headers: its decisions are
// made per message, from the cached bindings, and not kept. The default
// exchange ("") has no bindings: it routes to the queue named by the
// routing key, with the version "".

import type { BindingDeclaration, ExchangeType, Headers } from "../contract.js";
import { route } from "../routing/route.js";
import { BoundedCache } from "./bounded-cache.js";

/** Where a publish goes, and the version of the bindings that decided it. */
export interface RoutingDecision {
  /** The exchange published to ("" for the default exchange). */
  readonly exchange: string;
  /** The queues that receive the message, each once; empty when none is bound for it. */
  readonly queues: readonly string[];
  /** "" for the default exchange, which has no bindings to go stale. */
  readonly version: string;
}

/** An exchange's binding table as the backend read it, at one version. */
export interface ExchangeBindings {
  /** Changed by every bind, unbind and delete of the exchange; the backend's own format. */
  readonly version: string;
  /** The exchange's type, which says how `bindings` match. */
  readonly type: ExchangeType;
  /** Every binding from the exchange at that version. */
  readonly bindings: readonly BindingDeclaration[];
}

interface CachedExchange extends ExchangeBindings {
  /** By routing key; empty for a headers exchange. */
  readonly decisions: BoundedCache<string, RoutingDecision>;
}

/** Routing keys and exchange names may be unbounded: so are neither of these caches. */
const DECISIONS_KEPT = 10_000;
const EXCHANGES_KEPT = 1_000;

/**
 * Routing decisions for virtual exchanges, kept per binding-table version so
 * that a publish reads the table only when it changed (see the file's opening
 * comment). One per backend instance; bounded in exchanges and routing keys.
 */
export class RouteCache {
  readonly #exchanges = new BoundedCache<string, CachedExchange>(EXCHANGES_KEPT);
  readonly #direct = new BoundedCache<string, RoutingDecision>(DECISIONS_KEPT);

  /**
   * The decision for a publish, from the exchange's cached bindings;
   * undefined when none are cached, or when `version` is given and the
   * cached ones are of another (the caller reads the table and calls
   * `remember`). Without `version`, the caller checks the decision's version
   * where it stores the message, and calls `forget` when it was stale.
   */
  route(
    exchange: string,
    routingKey: string,
    headers: Headers,
    version?: string,
  ): RoutingDecision | undefined {
    // Looked up before anything is made: this runs for every publish, and a hit allocates nothing.
    if (exchange === "") {
      const known = this.#direct.get(routingKey);
      if (known) return known;
      const direct = { exchange, queues: [routingKey], version: "" };
      this.#direct.set(routingKey, direct);
      return direct;
    }
    const cached = this.#exchanges.get(exchange);
    if (cached === undefined || (version !== undefined && cached.version !== version)) {
      return undefined;
    }
    const kept = cached.type !== "headers";
    if (kept) {
      const known = cached.decisions.get(routingKey);
      if (known) return known;
    }
    const decision = {
      exchange,
      queues: route(cached.type, cached.bindings, routingKey, headers),
      version: cached.version,
    };
    if (kept) cached.decisions.set(routingKey, decision);
    return decision;
  }

  /** Keeps the exchange's bindings at `table.version`, in place of any older ones and their decisions. */
  remember(exchange: string, table: ExchangeBindings): void {
    const { version, type, bindings } = table;
    const decisions = new BoundedCache<string, RoutingDecision>(DECISIONS_KEPT);
    this.#exchanges.set(exchange, { version, type, bindings, decisions });
  }

  /** Drops the exchange's bindings: its next route waits for `remember`. */
  forget(exchange: string): void {
    this.#exchanges.delete(exchange);
  }
}
