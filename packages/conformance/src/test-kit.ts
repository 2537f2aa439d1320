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
import { describePayload } from "./expect-messages.js";
import { FaultProxy } from "./fault-proxy.js";
import { uniquePrefix } from "./names.js";
import type { HostileOptions, ProcessOptions, ResolvedOptions } from "./options.js";
import type { Expect } from "./runner.js";
import { delay, withTimeout } from "./wait-for.js";

/** What a consumer callback does with each message it collects. */
export type Settle<T> = "ack" | "hold" | ((message: Message<T>) => Promise<void> | void);

/** One `error` event of a consumer, as `TestKit.errors` collects it. */
export interface ConsumerError<T = unknown> {
  /** What went wrong (a DecodeError, the callback's own error, ...). */
  error: Error;
  /** The message it happened to, when there was one. */
  message?: Message<T>;
}

/** Thrown by `skip`: the case stops, cleans up, and is reported as skipped with this reason. */
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
  /** The runner's `expect`: a case asserts with it, never with one it imports. */
  readonly expect: Expect;
  /** `SuiteOptions.timeoutMs`: how long any one wait may take. */
  readonly timeoutMs: number;
  /** `SuiteOptions.delayToleranceMs`: how late a delayed message may arrive. */
  readonly delayToleranceMs: number;
  /** Starts every name this copy of the case declares (see `name`), so that copies and runs never meet. */
  readonly prefix: string;
  readonly #options: ResolvedOptions;
  readonly #connections: Connection[] = [];
  readonly #consumers: Pick<Consumer, "close">[] = [];
  readonly #publishers: Pick<Publisher, "close">[] = [];
  readonly #waits: Promise<unknown>[] = [];
  readonly #proxies: FaultProxy[] = [];
  readonly #queues = new Set<string>();
  readonly #exchanges = new Set<string>();
  readonly #atCleanup: (() => void)[] = [];
  /** The consumer behind each collector, for `nothingMoreOn`. */
  readonly #sources = new WeakMap<object, Pick<Consumer<unknown>, "queue" | "close">>();
  #step = "open: the first connection's connect()";
  #main?: Connection;
  #caps?: Capabilities;

  constructor(options: ResolvedOptions, caseId: string) {
    this.#options = options;
    this.expect = options.runner.expect;
    this.timeoutMs = options.timeoutMs;
    this.delayToleranceMs = options.delayToleranceMs;
    this.prefix = uniquePrefix(caseId);
  }

  /** What the case is doing now (the last step begun): a deadline failure names it. */
  get step(): string {
    return this.#step;
  }

  /** Names the step the case begins; the kit's own operations name theirs. */
  begin(step: string): void {
    this.#step = step;
  }

  /** `work` as a named step with its own deadline: a hang fails the case naming it. */
  async within<T>(step: string, work: () => Promise<T>): Promise<T> {
    this.#step = step;
    return withTimeout(work(), this.timeoutMs, step);
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
    return this.#connected(this.#options.connect(), "connect()");
  }

  /**
   * A new connected Connection whose leases are short (the `leases` option),
   * and how long they last; closed at the end of the case.
   */
  async leaseConnection(): Promise<{
    /** Connected; closed by the kit. */
    connection: Connection;
    /** `LeaseOptions.leaseMs`: how long its leases last. */
    leaseMs: number;
  }> {
    const leases = this.#options.leases;
    if (!leases)
      throw new Error(
        "the backend declares `leases`: give the suite `leases: { connect, leaseMs }`, a Connection whose leases are short, so that these cases can outlast them",
      );
    const connection = await this.#connected(leases.connect(), "connect() with short leases");
    return { connection, leaseMs: leases.leaseMs };
  }

  async #connected(connection: Connection, step: string): Promise<Connection> {
    this.#connections.push(connection);
    await this.within(step, () => connection.connect());
    return connection;
  }

  /** The name of a queue that keeps message groups (the `messageGroups` option; by default any queue). */
  groupQueueName(label: string): string {
    const name = this.name(label);
    return this.#options.messageGroups?.queueName(name) ?? name;
  }

  /** How a child process reaches the broker (the `processes` option), if the backend gave it. */
  get processes(): ProcessOptions | undefined {
    return this.#options.processes;
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
    const connection = faults.connectThrough(proxy.port, overrides, proxy.ports);
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

  /** A Consumer closed at the end of the case; its queue and exchange are deleted then. */
  consumer<T = unknown>(connection: Connection, options: ConsumerOptions<T>): Consumer<T> {
    const consumer = new Consumer<T>(connection, options);
    this.#consumers.push(consumer);
    if (options.queue) this.#queues.add(options.queue);
    if (options.exchange) this.#exchanges.add(options.exchange);
    return consumer;
  }

  /** A Publisher closed at the end of the case; its exchange is deleted then. */
  publisher<T = unknown>(connection: Connection, options: PublisherOptions<T>): Publisher<T> {
    const publisher = new Publisher<T>(connection, options);
    this.#publishers.push(publisher);
    if (options.exchange) this.#exchanges.add(options.exchange);
    return publisher;
  }

  /**
   * The queue where a consumer's failure policy keeps the messages of
   * `queue` that failed every attempt: the backend's `failedQueueName`,
   * else `<queue>.failed` (the contract's rule, read from the backend as
   * core reads it). Deleted at the end of the case.
   */
  async failedQueue(queue: string): Promise<string> {
    const backend = await this.main.ready();
    return this.trackQueue(backend.failedQueueName?.(queue) ?? `${queue}.failed`);
  }

  /** Declared through a connection directly: delete it at the end. */
  trackQueue(name: string): string {
    this.#queues.add(name);
    return name;
  }

  /** Declared through a connection directly: delete it at the end. */
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
    this.#sources.set(collector, consumer);
    await this.within(`declare of the consumer of '${consumer.queue}'`, () => consumer.declare());
    this.#step = `consuming '${consumer.queue}'`;
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
   * Completes a sentinel's proof that nothing else arrives, once the
   * sentinel is in on each collector. On a backend with `ordering` the
   * sentinel alone proves it: anything sent before it would have come
   * first. Without `ordering` a message sent earlier may still be on its
   * way, and no wait, however long, proves it never comes. What does: every
   * send resolved, so the broker had each message; the collectors'
   * consumers are closed (close() waits for their callbacks and gives back
   * what they hold), so every message routed to their queues has either
   * reached a callback or is still in the queue; and the queue is emptied
   * and must hold nothing. Unproven even then: a message a backend routes
   * after its send resolved (that breaks the send's own promise).
   * Collectors must ack what they keep: a held message would be given back
   * and counted.
   */
  async nothingMoreOn(
    ...collectors: Pick<Collector<unknown>, "label" | "summary">[]
  ): Promise<void> {
    if (this.caps.ordering) return;
    for (const collector of collectors) {
      const consumer = this.#sources.get(collector);
      if (!consumer) throw new Error(`${collector.label} was not made by TestKit.collect`);
      const { queue } = consumer;
      await this.within(`close of the consumer of '${queue}'`, () =>
        consumer.close({ deadline: this.timeoutMs }),
      );
      const left = await this.within(`purge of '${queue}'`, () => this.main.purgeQueue(queue));
      this.expect(
        left,
        `'${queue}' still held ${left} message(s) after its sentinel arrived and its consumer closed: a message that must not arrive there was routed to it (${collector.summary()})`,
      ).toBe(0);
    }
  }

  /**
   * The fault cases' last resort on a backend without `ordering`: after a
   * cut, a message the broker took back may reappear only once its lease
   * runs out, so there a bounded quiet period stands in for an event.
   * Every other case proves absence with `nothingMoreOn`.
   */
  async quietPeriodIfUnordered(): Promise<void> {
    if (!this.caps.ordering) await delay(Math.min(2000, this.timeoutMs / 5));
  }

  /** Skips the case with a printed reason: it cleans up, then is reported as skipped. */
  skip(note: string): never {
    throw new CaseSkipped(note);
  }

  /** Runs `undo` first thing at clean-up (a child process to kill, say). */
  atCleanup(undo: () => void): void {
    this.#atCleanup.push(undo);
  }

  /** Closes what the case opened, then deletes what it declared, from a fresh connection. */
  async cleanup(): Promise<void> {
    for (const undo of this.#atCleanup) undo();
    const errors: unknown[] = [];
    const attempt = async (work: () => Promise<unknown>, step?: string) => {
      if (step) this.#step = `clean-up: ${step}`;
      try {
        await work();
      } catch (error) {
        if (!(error instanceof NotFoundError || error instanceof ClosedError)) errors.push(error);
      }
    };
    const deadline = this.timeoutMs;
    // A refusing, stalled or silenced proxy would hold up every close behind it.
    for (const proxy of this.#proxies) proxy.heal();
    this.#step = "clean-up: close of the consumers";
    await Promise.all(this.#consumers.map((c) => attempt(() => c.close({ deadline }))));
    this.#step = "clean-up: the consumers' wait() to end";
    await Promise.all(this.#waits.map((w) => attempt(() => w)));
    this.#step = "clean-up: close of the publishers";
    await Promise.all(this.#publishers.map((p) => attempt(() => p.close())));
    this.#step = "clean-up: close of the connections";
    await Promise.all(this.#connections.map((c) => attempt(() => c.close())));
    this.#step = "clean-up: close of the proxies";
    await Promise.all(this.#proxies.map((p) => attempt(() => p.close())));
    if (this.#queues.size + this.#exchanges.size > 0) {
      const janitor = this.#options.connect();
      await attempt(async () => {
        for (const queue of this.#queues)
          await attempt(() => janitor.deleteQueue(queue), `delete of queue '${queue}'`);
        for (const exchange of this.#exchanges)
          await attempt(() => janitor.deleteExchange(exchange), `delete of exchange '${exchange}'`);
      });
      await attempt(() => janitor.close(), "close of the clean-up connection");
    }
    if (errors.length > 0)
      throw new AggregateError(errors, `cleanup of ${this.prefix} failed: ${errors.join("; ")}`);
  }
}

function describeMessage(message: Message<unknown>): string {
  let body: string;
  try {
    body = describePayload(message.payload);
  } catch {
    // A payload that does not decode (read with fetch() from a dead-letter queue).
    body = `<${message.body.byteLength} bytes>`;
  }
  return message.deliveryInfo.redelivered ? `${body} (redelivered)` : body;
}
