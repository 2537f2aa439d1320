import { loadBackendFactory } from "./backend-registry.js";
import { assertExchangeSupported, assertQueueSupported } from "./capability-checks.js";
import {
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "./connection-options.js";
import type {
  Backend,
  BackendEventListener,
  BackendEvents,
  BindingDeclaration,
  Capabilities,
  ExchangeDeclaration,
  QueueDeclaration,
} from "./contract.js";
import { ClosedError, ConnectionError } from "./errors.js";
import { BackendEventEmitter } from "./events.js";
import { assertExchangeExists, assertQueueExists } from "./passive-declarations.js";
import { logConnectionEvents } from "./telemetry/connection-log.js";
import type { Instrumentation } from "./telemetry/instrumentation.js";
import type { Logger } from "./telemetry/logger.js";
import { messagingSystem } from "./telemetry/messaging-system.js";
import { createTelemetry } from "./telemetry/telemetry.js";
import {
  type ExchangeInput,
  exchangeDeclaration,
  type QueueInput,
  queueDeclaration,
} from "./topology-input.js";

const BACKEND_EVENTS = [
  "connect",
  "disconnect",
  "reconnect",
  "error",
] as const satisfies (keyof BackendEvents)[];

/** Something that must close before its connection does (a Consumer finishing its callbacks). */
export interface ConnectionChild {
  /** The connection is closing: finish started work; the broker takes back the rest. */
  closeWithConnection(): Promise<void>;
}

/**
 * A connection to one broker, whichever backend serves it. Connecting is lazy
 * (the first publish or consume connects) or explicit (`await connect()`).
 */
export class Connection {
  readonly #resolved: ResolvedConnectionOptions;
  readonly #events = new BackendEventEmitter();
  readonly #children = new Set<ConnectionChild>();
  readonly #telemetry: Instrumentation | undefined;
  #backend?: Backend;
  #connecting?: Promise<Backend>;
  #closed = false;

  /**
   * @param urlOrOptions a broker URL (`amqp://user:pass@host/vhost`,
   * `redis://`, `sqs://<region>`, `memory://`; its scheme picks the backend)
   * or options; default `memory://`. Nothing connects yet.
   */
  constructor(urlOrOptions?: string | ConnectionOptions) {
    this.#resolved = resolveConnectionOptions(urlOrOptions);
    const { source, telemetry, logger, secrets } = this.#resolved;
    this.#telemetry = createTelemetry(messagingSystem(sourceName(source)), telemetry, secrets);
    if (logger) logConnectionEvents(this.#events, logger, secrets);
  }

  /**
   * What records this connection's traces and metrics; undefined when
   * nothing can (`telemetry: false`, or no `@opentelemetry/api`). @internal
   */
  get telemetry(): Instrumentation | undefined {
    return this.#telemetry;
  }

  /** The `logger` option: where this connection's consumers report what no listener took. @internal */
  get logger(): Logger | undefined {
    return this.#resolved.logger;
  }

  /** Connects now (idempotent). Rejects with a ConnectionError subclass, naming the host, never the password. */
  async connect(): Promise<this> {
    await this.ready();
    return this;
  }

  /** The connected backend, connecting first if needed. What Publisher and Consumer use. */
  ready(): Promise<Backend> {
    if (this.#closed)
      return Promise.reject(new ClosedError(`${this} is closed; create a new Connection`));
    if (this.#backend) return Promise.resolve(this.#backend);
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #open(): Promise<Backend> {
    const { source, backendOptions } = this.#resolved;
    const backend =
      source.kind === "instance"
        ? source.backend
        : (source.kind === "factory"
            ? source.factory
            : await loadBackendFactory(source.scheme)
          ).create(backendOptions);
    for (const event of BACKEND_EVENTS) {
      backend.on(event, (payload) => this.#events.emit(event, payload as never));
    }
    await backend.connect();
    if (this.#closed) {
      await backend.close();
      throw new ClosedError(`${this} was closed while connecting`);
    }
    this.#backend = backend;
    return backend;
  }

  /** The backend, once connected. */
  get backend(): Backend {
    if (!this.#backend)
      throw new ConnectionError(`${this} is not connected yet; await connection.connect() first`);
    return this.#backend;
  }

  /** What the connected backend can do (exchange types, priorities, message groups...); throws before connecting. */
  get capabilities(): Capabilities {
    return this.backend.capabilities;
  }

  /** Connected and not closed. A connection that is reconnecting still counts as connected. */
  get connected(): boolean {
    return this.#backend !== undefined && !this.#closed;
  }

  /**
   * Listens to the backend's events: `connect`, `disconnect` (with the error
   * when the connection was lost), `reconnect` and `error`. Listeners added
   * before connecting hear the first `connect`.
   */
  on<E extends keyof BackendEvents>(event: E, listener: BackendEventListener<E>): this {
    this.#events.on(event, listener);
    return this;
  }

  /** Removes a listener added with `on`. */
  off<E extends keyof BackendEvents>(event: E, listener: BackendEventListener<E>): this {
    this.#events.off(event, listener);
    return this;
  }

  /**
   * Consumers register here so that closing the connection lets their callbacks finish first.
   * @internal
   */
  attach(child: ConnectionChild): () => void {
    this.#children.add(child);
    return () => this.#children.delete(child);
  }

  /** Closes consumers on this connection (letting started callbacks finish), then the backend. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#children].map((child) => child.closeWithConnection()));
    const backend = this.#backend ?? (await this.#connecting?.catch(() => undefined));
    this.#backend = undefined;
    await backend?.close();
  }

  /** `await using connection = ...`: `close()` at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** `Connection(amqp://guest:***@host:5672/)`: the URL with the password hidden. */
  toString(): string {
    return `Connection(${this.#resolved.display})`;
  }

  // Topology, for applications and tests that manage it outside Publisher/Consumer.

  /**
   * Declares an exchange (idempotent); a different existing one fails with
   * DeclarationConflictError. With `passive`, creates nothing: NotFoundError
   * unless it exists.
   */
  async declareExchange(exchange: ExchangeInput): Promise<void> {
    const declaration = exchangeDeclaration(exchange);
    const backend = await this.ready();
    if (exchange.passive) return assertExchangeExists(backend, declaration.name);
    assertExchangeSupported(backend.name, backend.capabilities, declaration);
    await backend.declareExchange(declaration);
  }

  /**
   * Declares a queue (idempotent); a different existing one fails with
   * DeclarationConflictError. With `passive`, creates nothing: NotFoundError
   * unless it exists.
   */
  async declareQueue(queue: QueueInput): Promise<void> {
    const declaration = queueDeclaration(queue);
    const backend = await this.ready();
    if (queue.passive) return assertQueueExists(backend, declaration.name);
    assertQueueSupported(backend.name, backend.capabilities, declaration);
    await backend.declareQueue(declaration);
  }

  /** Binds a queue to an exchange (idempotent). */
  async bindQueue(binding: BindingDeclaration): Promise<void> {
    await (await this.ready()).bindQueue(binding);
  }

  /** Removes a binding of a queue to an exchange. */
  async unbindQueue(binding: BindingDeclaration): Promise<void> {
    await (await this.ready()).unbindQueue(binding);
  }

  /** Deletes an exchange and its bindings. */
  async deleteExchange(name: string): Promise<void> {
    await (await this.ready()).deleteExchange(name);
  }

  /** Deletes a queue with its messages and its bindings. */
  async deleteQueue(name: string): Promise<void> {
    await (await this.ready()).deleteQueue(name);
  }

  /** Removes the ready messages of a queue; resolves to how many. */
  async purgeQueue(name: string): Promise<number> {
    return (await this.ready()).purgeQueue(name);
  }
}

/** The backend's name, or the URL scheme that will pick it. */
function sourceName(source: ResolvedConnectionOptions["source"]): string {
  if (source.kind === "scheme") return source.scheme;
  return source.kind === "instance" ? source.backend.name : source.factory.name;
}

export type { ExchangeDeclaration, QueueDeclaration };
