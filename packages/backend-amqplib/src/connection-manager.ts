import {
  type BackendEventEmitter,
  backoffDelay,
  type CarrotError,
  ClosedError,
  ConnectionError,
  ConnectionLostError,
  ConnectTimeoutError,
  clientError,
  type ReconnectPolicy,
  withTimeout,
} from "@carrot/core/backend";
import { type ChannelModel, connect } from "amqplib";
import type { Endpoint } from "./amqp-endpoints.js";
import { brokerText, channelError, connectError } from "./amqp-errors.js";
import { boundedCloseConnection } from "./bounded-close.js";
import { coalesceWrites } from "./coalesced-writes.js";

export interface ConnectionManagerOptions {
  endpoints: readonly Endpoint[];
  /** Milliseconds one connect (every endpoint in turn) may take. */
  connectTimeout: number;
  reconnect: ReconnectPolicy | false;
  /** Milliseconds an operation waits for a lost connection to come back. */
  reconnectWait: number;
  events: BackendEventEmitter;
  /**
   * Brings a fresh connection up to date (topology, consumers) before anyone
   * else may use it. Reports its own per-item failures; throws only when the
   * connection itself failed.
   */
  recover(model: ChannelModel): Promise<void>;
}

interface Waiter {
  resolve(model: ChannelModel): void;
  reject(error: Error): void;
}

/**
 * Owns the one AMQP connection: opens it (trying each endpoint in turn within
 * the connect timeout), notices when it drops, reconnects with core's bounded
 * exponential backoff with jitter, lets `recover` restore topology and
 * consumers, and only then hands the connection out again. Operations that
 * arrive while it is down wait for it, up to `reconnectWait`.
 *
 * amqplib's own recovery (`connect(url, { recovery })`) reconnects to a single
 * URL only; failover across hosts and the recovery ordering need this class.
 */
export class ConnectionManager {
  readonly #options: ConnectionManagerOptions;
  readonly #waiters = new Set<Waiter>();
  #model?: ChannelModel;
  /** The endpoint in use, or the one to try first next time. */
  #current = 0;
  #closed = false;
  #failure?: Error;
  #wake?: () => void;
  serverVersion?: string;

  constructor(options: ConnectionManagerOptions) {
    this.#options = options;
  }

  get endpoint(): Endpoint {
    return this.#options.endpoints[this.#current]!;
  }

  /** The open connection, if there is one right now. */
  get model(): ChannelModel | undefined {
    return this.#model;
  }

  /** The first connection. Fails at once (no retries) with a typed error. */
  async connect(): Promise<void> {
    if (this.#closed)
      throw new ClosedError("this amqplib connection is closed; open a new Connection");
    if (this.#model) return;
    const model = await this.#openAny();
    if (this.#closed) {
      await boundedCloseConnection(model);
      throw new ClosedError("the amqplib connection was closed while connecting");
    }
    this.#install(model);
    this.#options.events.emit("connect", { host: this.endpoint.host });
  }

  /** The open connection; waits for a reconnect up to `reconnectWait`, then fails with ConnectionLostError. */
  ready(): Promise<ChannelModel> {
    if (this.#model) return Promise.resolve(this.#model);
    if (this.#closed)
      return Promise.reject(
        new ClosedError("this amqplib connection is closed; open a new Connection"),
      );
    if (this.#failure) return Promise.reject(this.#failure);
    const wait = this.#options.reconnectWait;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new ConnectionLostError(
            `no connection to RabbitMQ at ${this.endpoint.host} for ${wait} ms (reconnecting); the operation was not performed`,
          ),
        );
      }, wait);
      const waiter: Waiter = {
        resolve: (model) => {
          clearTimeout(timer);
          resolve(model);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#rejectWaiters(new ClosedError("the amqplib connection was closed"));
    const model = this.#model;
    this.#model = undefined;
    await boundedCloseConnection(model);
    // Down by request, reported as any other way down; a loss was reported already.
    if (model) this.#options.events.emit("disconnect", { host: this.endpoint.host });
  }

  #install(model: ChannelModel): void {
    this.serverVersion ??= String(model.connection.serverProperties.version ?? "");
    this.#model = model;
    const host = this.endpoint.host;
    model.on("error", () => {}); // the 'close' that follows carries the same error
    model.on("blocked", (reason: string) => {
      this.#options.events.emit("error", {
        error: new ConnectionError(
          `RabbitMQ at ${host} blocked publishing on this connection (${reason}); sends wait until it unblocks or time out`,
        ),
      });
    });
    model.once("close", (error?: Error) => {
      if (this.#model !== model) return;
      this.#model = undefined;
      if (this.#closed) return;
      // amqplib gives a reason when the broker or the socket ended it.
      const lost =
        error &&
        clientError(
          ConnectionLostError,
          `the connection to RabbitMQ at ${host} was lost (${brokerText(error)})`,
          error,
        );
      this.#options.events.emit("disconnect", { host, error: lost });
      if (this.#options.reconnect === false) {
        this.#fail(
          new ConnectionLostError(
            `the connection to RabbitMQ at ${host} was lost and reconnect is off`,
            { cause: lost, clientCode: lost?.clientCode },
          ),
        );
        return;
      }
      void this.#reconnect(this.#options.reconnect);
    });
  }

  async #reconnect(policy: ReconnectPolicy): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      if (attempt >= policy.maxAttempts) {
        this.#fail(
          new ConnectionLostError(
            `gave up reconnecting to RabbitMQ at ${this.endpoint.host} after ${attempt} attempts`,
          ),
        );
        return;
      }
      await this.#sleep(backoffDelay(policy, attempt));
      if (this.#closed) return;
      let model: ChannelModel | undefined;
      try {
        model = await this.#openAny();
        if (this.#closed) {
          await boundedCloseConnection(model);
          return;
        }
        let lost = false;
        model.once("close", () => {
          lost = true;
        });
        model.on("error", () => {});
        await this.#options.recover(model);
        if (lost) throw new ConnectionLostError("the connection dropped again while recovering");
        if (this.#closed) {
          await boundedCloseConnection(model);
          return;
        }
        this.#install(model);
        for (const waiter of this.#waiters) waiter.resolve(model);
        this.#waiters.clear();
        const host = this.endpoint.host;
        this.#options.events.emit("connect", { host });
        this.#options.events.emit("reconnect", { host, attempt: attempt + 1 });
        return;
      } catch (error) {
        await boundedCloseConnection(model);
        this.#options.events.emit("error", {
          error: channelError(error, `reconnecting to RabbitMQ at ${this.endpoint.host}`),
        });
      }
    }
  }

  /** Every endpoint in turn, starting with the last one that worked, within one connect timeout. */
  async #openAny(): Promise<ChannelModel> {
    const { endpoints, connectTimeout } = this.#options;
    const deadline = Date.now() + connectTimeout;
    const errors: CarrotError[] = [];
    for (let tried = 0; tried < endpoints.length; tried++) {
      const index = (this.#current + tried) % endpoints.length;
      const endpoint = endpoints[index]!;
      // Hosts that fail fast leave their share of the time to the ones after them.
      const share = Math.max(1, Math.floor((deadline - Date.now()) / (endpoints.length - tried)));
      try {
        const model = await openWithin(endpoint, share);
        this.#current = index;
        return model;
      } catch (error) {
        errors.push(connectError(error, endpoint, share));
      }
    }
    if (errors.length === 1) throw errors[0]!;
    const Kind = errors[0]!.constructor as typeof CarrotError;
    throw new Kind(
      `none of ${errors.length} RabbitMQ hosts accepted the connection: ${errors.map((e) => e.message).join("; ")}`,
      {
        cause: errors[0],
      },
    );
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #fail(error: Error): void {
    this.#failure = error;
    this.#rejectWaiters(error);
    this.#options.events.emit("error", { error });
  }

  #rejectWaiters(error: Error): void {
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }
}

/**
 * One connection attempt with a hard deadline. amqplib's socket `timeout`
 * only notices idleness; a broker that trickles bytes, or a TLS handshake that
 * stalls, is cut off by the timer here, and a connection that opens after the
 * deadline is closed.
 */
async function openWithin(endpoint: Endpoint, ms: number): Promise<ChannelModel> {
  const opening = connect(endpoint.connect, { ...endpoint.socket, timeout: ms });
  try {
    const model = await withTimeout(
      opening,
      ms,
      () =>
        new ConnectTimeoutError(
          `no connection to RabbitMQ at ${endpoint.host} within ${ms} ms; is the broker up and the address right?`,
        ),
    );
    coalesceWrites(model);
    return model;
  } catch (error) {
    opening.then(
      (late) => boundedCloseConnection(late),
      () => {},
    );
    throw error;
  }
}
