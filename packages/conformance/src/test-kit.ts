import {
  type Capabilities,
  ClosedError,
  type Connection,
  type ConnectionOptions,
  Consumer,
  type ConsumerOptions,
  type Message,
  NotFoundError,
  Publisher,
  type PublisherOptions,
  UnsupportedFeatureError,
} from "@carrot/core";
import { Collector } from "./collector.js";
import { FaultProxy } from "./fault-proxy.js";
import { uniquePrefix } from "./names.js";
import type { HostileOptions, ResolvedOptions } from "./options.js";
import type { Expect } from "./runner.js";
import { delay } from "./wait-for.js";

/** What a consumer callback does with each message it collects. */
export type Settle<T> = "ack" | "hold" | ((message: Message<T>) => Promise<void> | void);

export interface ConsumerError<T = unknown> {
  error: Error;
  message?: Message<T>;
}

/** Thrown by `skip` when the runner has no context skip of its own. */
export class CaseSkipped extends Error {
  override name = "CaseSkipped";
}

/**
 * Everything one copy of one case uses, and everything it must give back:
 * connections, consumers and publishers opened through the kit are closed,
 * and queues and exchanges declared through it are deleted, whatever the
 * outcome, so that the suite leaves a real broker as it found it.
 */
export class TestKit {
  readonly expect: Expect;
  readonly timeoutMs: number;
  readonly prefix: string;
  readonly #options: ResolvedOptions;
  readonly #skip: (note: string) => void;
  readonly #connections: Connection[] = [];
  readonly #consumers: Pick<Consumer, "close">[] = [];
  readonly #publishers: Pick<Publisher, "close">[] = [];
  readonly #waits: Promise<unknown>[] = [];
  readonly #proxies: FaultProxy[] = [];
  readonly #queues = new Set<string>();
  readonly #exchanges = new Set<string>();
  #main?: Connection;
  #caps?: Capabilities;

  constructor(options: ResolvedOptions, caseId: string, skip: (note: string) => void) {
    this.#options = options;
    this.expect = options.runner.expect;
    this.timeoutMs = options.timeoutMs;
    this.prefix = uniquePrefix(caseId);
    this.#skip = skip;
  }

  /** Opens the case's first connection and reads the backend's declared capabilities from it. */
  async open(): Promise<void> {
    this.#main = await this.connection();
    this.#caps = this.#main.capabilities;
  }

  /** The connection opened first; most cases need no other. */
  get main(): Connection {
    if (!this.#main) throw new Error("TestKit.open() was not awaited");
    return this.#main;
  }

  /** What the backend declares: the cases follow it, never a test file's claim. */
  get caps(): Capabilities {
    if (!this.#caps) throw new Error("TestKit.open() was not awaited");
    return this.#caps;
  }

  /** A name unique to this copy of this case (declare it through the kit, or track it, to have it deleted). */
  name(label: string): string {
    return `${this.prefix}-${label}`;
  }

  /** A new connected Connection, as another process would open; closed at the end of the case. */
  async connection(): Promise<Connection> {
    const connection = this.#options.connect();
    this.#connections.push(connection);
    await connection.connect();
    return connection;
  }

  /**
   * A fault-injecting TCP proxy in front of the broker (the `faults` option's
   * target). It is healed (no refusing, no stall) before the case's
   * connections close, and closed after them.
   */
  async proxy(): Promise<FaultProxy> {
    const faults = this.#options.faults;
    if (!faults) throw new Error("this case needs the `faults` option (a broker over TCP)");
    const proxy = await FaultProxy.start(faults.target);
    this.#proxies.push(proxy);
    return proxy;
  }

  /**
   * A new Connection to the broker through `proxy`, not connected yet (a case
   * may expect `connect()` to fail); closed at the end of the case.
   */
  through(proxy: FaultProxy, overrides?: ConnectionOptions): Connection {
    const faults = this.#options.faults;
    if (!faults) throw new Error("this case needs the `faults` option (a broker over TCP)");
    const connection = faults.connectThrough(proxy.port, overrides);
    this.#connections.push(connection);
    return connection;
  }

  /** How the backend writes raw messages onto its broker (the `hostile` option). */
  get hostile(): HostileOptions {
    const hostile = this.#options.hostile;
    if (!hostile)
      throw new Error("this case needs the `hostile` option (a raw writer for the broker)");
    return hostile;
  }

  consumer<T = unknown>(connection: Connection, options: ConsumerOptions<T>): Consumer<T> {
    const consumer = new Consumer<T>(connection, options);
    this.#consumers.push(consumer);
    if (options.queue) this.#queues.add(options.queue);
    if (options.exchange) this.#exchanges.add(options.exchange);
    return consumer;
  }

  publisher<T = unknown>(connection: Connection, options: PublisherOptions<T>): Publisher<T> {
    const publisher = new Publisher<T>(connection, options);
    this.#publishers.push(publisher);
    if (options.exchange) this.#exchanges.add(options.exchange);
    return publisher;
  }

  /** Declared through a connection directly: delete it at the end. */
  trackQueue(name: string): string {
    this.#queues.add(name);
    return name;
  }

  trackExchange(name: string): string {
    this.#exchanges.add(name);
    return name;
  }

  /**
   * Consumes in the background with a callback that records every message
   * (and acks it, holds it unsettled, or hands it to `settle`). The
   * consumer is declared before this resolves, so what is published next
   * reaches its queue.
   */
  async collect<T = unknown>(
    consumer: Consumer<T>,
    settle: Settle<T> = "ack",
    timeoutMs = this.timeoutMs,
  ): Promise<Collector<Message<T>>> {
    const collector = new Collector<Message<T>>(
      `consumer of '${consumer.queue}'`,
      timeoutMs,
      describeMessage,
    );
    consumer.registerCallback(async (_data, message) => {
      collector.push(message);
      if (settle === "ack") await message.ack();
      else if (typeof settle === "function") await settle(message);
    });
    await consumer.declare();
    // Caught at once: a consumer that stops with an error fails the case's waits with that error.
    this.#waits.push(consumer.wait().catch((error: unknown) => collector.fail(error)));
    return collector;
  }

  /** The consumer's error events (decode failures, callback failures). */
  errors<T = unknown>(consumer: Consumer<T>): Collector<ConsumerError<T>> {
    const collector = new Collector<ConsumerError<T>>(
      `error events of '${consumer.queue}'`,
      this.timeoutMs,
      (e) => `${e.error.name}: ${e.error.message}`,
    );
    consumer.on("error", (error, message) => collector.push({ error, message }));
    return collector;
  }

  /** The action must be refused with UnsupportedFeatureError: a missing capability is never ignored. */
  async refused(action: () => Promise<unknown>): Promise<void> {
    await this.expect((async () => action())()).rejects.toBeInstanceOf(UnsupportedFeatureError);
  }

  /**
   * A deterministic absence proof needs order: "the sentinel sent after it
   * arrived, so it would have arrived first". A backend without `ordering`
   * gives no such barrier, so there, and only there, the case also waits a
   * bounded quiet period before asserting that nothing else came.
   */
  async quietPeriodIfUnordered(): Promise<void> {
    if (!this.caps.ordering) await delay(Math.min(2000, this.timeoutMs / 5));
  }

  /** Skips the case with a printed reason (vitest's `context.skip(note)` when there is one). */
  skip(note: string): never {
    this.#skip(note);
    throw new CaseSkipped(note);
  }

  /** Closes what the case opened, then deletes what it declared, from a fresh connection. */
  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        if (!(error instanceof NotFoundError || error instanceof ClosedError)) errors.push(error);
      }
    };
    const deadline = this.timeoutMs;
    // A refusing, stalled or silenced proxy would hold up every close behind it.
    for (const proxy of this.#proxies) proxy.heal();
    await Promise.all(this.#consumers.map((c) => attempt(() => c.close({ deadline }))));
    await Promise.all(this.#waits.map((w) => attempt(() => w)));
    await Promise.all(this.#publishers.map((p) => attempt(() => p.close())));
    await Promise.all(this.#connections.map((c) => attempt(() => c.close())));
    await Promise.all(this.#proxies.map((p) => attempt(() => p.close())));
    if (this.#queues.size + this.#exchanges.size > 0) {
      const janitor = this.#options.connect();
      await attempt(async () => {
        for (const queue of this.#queues) await attempt(() => janitor.deleteQueue(queue));
        for (const exchange of this.#exchanges)
          await attempt(() => janitor.deleteExchange(exchange));
      });
      await attempt(() => janitor.close());
    }
    if (errors.length > 0)
      throw new AggregateError(errors, `cleanup of ${this.prefix} failed: ${errors.join("; ")}`);
  }
}

function describeMessage(message: Message<unknown>): string {
  let body: string;
  try {
    if (message.payload instanceof Uint8Array) return `<${message.payload.byteLength} bytes>`;
    body = JSON.stringify(message.payload) ?? String(message.payload);
  } catch {
    body = `<${message.body.byteLength} bytes>`;
  }
  if (body.length > 40) body = `${body.slice(0, 37)}...`;
  return message.deliveryInfo.redelivered ? `${body} (redelivered)` : body;
}
