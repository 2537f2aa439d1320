import { ClosedError } from "../errors.js";
import type { BackendEventEmitter } from "../events.js";

/** Where a connection is: never opened yet, open (up or down), or closed for good. */
export type LifecycleState = "new" | "open" | "closed";

/**
 * The connection state every backend keeps, and the events that tell the
 * application about it, kept once so that the rules of the contract hold on
 * every backend alike:
 * - `connect()` is single-flight: concurrent calls share one attempt, and a
 *   connection that is open resolves at once;
 * - a connection closed while it was connecting fails that connect with
 *   `ClosedError` and releases what the attempt opened;
 * - after `close()`, every operation fails with `ClosedError`;
 * - `disconnect` is emitted once per way down (lost, or closed while up),
 *   never twice without a `reconnect` between, and `close()` of a connection
 *   already lost emits none; `connect` and `reconnect` follow a recovery.
 *
 * The backend supplies what is its own: how to open (`connect(open)`), how
 * to release on close (`close(release)`), and when its client says the
 * connection went down or came back (`lost`, `regained`).
 */
export class ConnectionLifecycle<Opened = void> {
  readonly #events: BackendEventEmitter;
  /** How the connection is named in errors ("this redis connection (host:port)"). */
  readonly #describe: string;
  #state: LifecycleState = "new";
  #connecting?: Promise<void>;
  #down = false;

  /**
   * `host` is what events report; `describe` names the connection in error
   * messages, without secrets (e.g. "redis connection (127.0.0.1:6379)").
   */
  constructor(
    events: BackendEventEmitter,
    /** The broker as events report it (`connect`, `disconnect`, `reconnect`), without secrets. */
    readonly host: string,
    describe: string,
  ) {
    this.#events = events;
    this.#describe = describe;
  }

  /** Where the connection is now; a backend reads it to refuse or to connect on first use. */
  get state(): LifecycleState {
    return this.#state;
  }

  /** Open, and not known to be down right now. */
  get up(): boolean {
    return this.#state === "open" && !this.#down;
  }

  /**
   * Runs `open` once, however many callers ask. `open` resolves to what it
   * opened; `abandon` releases that when the connection was closed while it
   * was opening. A failed attempt can be tried again. `adopt`, if given,
   * takes what was opened into use once it is sure to be kept, just before
   * the connection counts as open and `connect` is reported (so that an
   * abandoned attempt has started nothing, and a `connect` listener finds
   * the backend ready).
   */
  connect(
    open: () => Promise<Opened>,
    abandon: (opened: Opened) => void,
    adopt?: (opened: Opened) => void,
  ): Promise<void> {
    if (this.#state === "closed") return Promise.reject(this.closedError());
    if (this.#state === "open") return Promise.resolve();
    this.#connecting ??= this.#open(open, abandon, adopt).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #open(
    open: () => Promise<Opened>,
    abandon: (opened: Opened) => void,
    adopt?: (opened: Opened) => void,
  ): Promise<void> {
    const opened = await open();
    if (this.#state === "closed") {
      abandon(opened);
      throw new ClosedError(`the ${this.#describe} was closed while connecting`);
    }
    adopt?.(opened);
    this.#state = "open";
    this.#events.emit("connect", { host: this.host });
  }

  /**
   * Closes once. A connection that never opened only waits for an attempt in
   * flight (which then fails with ClosedError); an open one runs `release`
   * (give deliveries back, flush, quit) and then reports `disconnect`,
   * unless a loss was reported already.
   */
  async close(release: () => Promise<void>): Promise<void> {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    if (!wasOpen) {
      await this.#connecting?.catch(() => undefined);
      return;
    }
    await release();
    if (!this.#down) this.#events.emit("disconnect", { host: this.host });
  }

  /** The client lost the connection: `disconnect` with the reason, once per outage. */
  lost(error?: Error): void {
    if (this.#down || this.#state !== "open") return;
    this.#down = true;
    this.#events.emit("disconnect", { host: this.host, error });
  }

  /** The client is connected again after `attempt` tries: `connect`, then `reconnect`. */
  regained(attempt: number): void {
    if (!this.#down || this.#state !== "open") return;
    this.#down = false;
    this.#events.emit("connect", { host: this.host });
    this.#events.emit("reconnect", { host: this.host, attempt });
  }

  /** Throws ClosedError after close(). */
  assertNotClosed(): void {
    if (this.#state === "closed") throw this.closedError();
  }

  /** The error every operation after `close()` fails with, naming the connection. */
  closedError(): ClosedError {
    return new ClosedError(`this ${this.#describe} is closed; open a new Connection`);
  }
}
