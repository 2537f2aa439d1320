import type { RoutingDecision } from "@carrot/core/backend";
import type { KeyLayout } from "./key-layout.js";

/**
 * The routes of one call of the publish or release script (`ROUTING` in
 * lua-scripts.ts), each distinct one sent once: its keys (the exchange's
 * binding version, then meta, stream and dead of each queue) and its
 * arguments (the version routed with, the number of queues, their names),
 * numbered from 1 for the script's messages to name.
 */
export class ScriptRoutes {
  /** The routes' keys, in order, to follow the script's fixed keys. */
  readonly keys: string[] = [];
  readonly #args: string[] = [];
  readonly #numbers = new Map<RoutingDecision, string>();

  constructor(readonly layout: KeyLayout) {}

  /** The route's number in this call; its keys and arguments are added the first time. */
  number(route: RoutingDecision): string {
    let number = this.#numbers.get(route);
    if (number === undefined) {
      number = String(this.#numbers.size + 1);
      this.#numbers.set(route, number);
      this.keys.push(this.layout.version(route.exchange));
      for (const queue of route.queues) {
        this.keys.push(
          this.layout.queueMeta(queue),
          this.layout.stream(queue),
          this.layout.dead(queue),
        );
      }
      this.#args.push(route.version, String(route.queues.length), ...route.queues);
    }
    return number;
  }

  /** The script's first arguments: the number of routes, then each route's. */
  arguments(): string[] {
    return [String(this.#numbers.size), ...this.#args];
  }
}
