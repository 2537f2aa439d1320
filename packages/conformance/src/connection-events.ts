import type { Connection } from "@carrot/core";
import { Collector } from "./collector.js";

export type LifecycleEvent = "connect" | "disconnect" | "reconnect" | "error";

/** A connection's lifecycle events, in order, to count and to wait on. */
export class ConnectionEvents {
  readonly #log: Collector<{ kind: LifecycleEvent; detail: string }>;

  constructor(connection: Connection, label: string, timeoutMs: number) {
    this.#log = new Collector(`events of ${label}`, timeoutMs, (e) =>
      e.detail ? `${e.kind} (${e.detail})` : e.kind,
    );
    const log = (kind: LifecycleEvent, detail = "") => this.#log.push({ kind, detail });
    connection.on("connect", () => log("connect"));
    connection.on("disconnect", ({ error }) => log("disconnect", error?.message));
    connection.on("reconnect", () => log("reconnect"));
    connection.on("error", ({ error }) => log("error", `${error.name}: ${error.message}`));
  }

  summary(): string {
    return this.#log.summary();
  }

  count(kind: LifecycleEvent): number {
    return this.#log.items.filter((e) => e.kind === kind).length;
  }

  /** Down: a disconnect was reported and no reconnect since. */
  get down(): boolean {
    return this.count("disconnect") > this.count("reconnect");
  }

  /** Resolves on the next `kind` event after this call (call it before causing the event). */
  next(kind: LifecycleEvent): Promise<unknown> {
    const seen = this.count(kind);
    const waiting = this.#log.until(
      (items) => items.filter((e) => e.kind === kind).length > seen,
      `a '${kind}' event`,
    );
    // Awaited by the case a little later: a timeout before then must not be an unhandled rejection.
    waiting.catch(() => undefined);
    return waiting;
  }
}
