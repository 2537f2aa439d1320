import { ListQueuesCommand, ListQueueTagsCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  type BindingDeclaration,
  type ExchangeType,
  type Headers,
  NotFoundError,
  type QueueDeclaration,
  RouteCache,
  sameBinding,
} from "@carrot/core/backend";
import { parseQueueTags, type TaggedBinding } from "./queue-tags.js";

/** One carrot queue as the last scan saw it. */
export interface ScannedQueue {
  url: string;
  declaration: QueueDeclaration;
  bindings: TaggedBinding[];
}

export interface Snapshot {
  /** By carrot queue name. */
  queues: Map<string, ScannedQueue>;
  /** The binding table's version: new with every scan and every change made here. */
  version: string;
}

type Mutation = (snapshot: Snapshot) => void;

const SCAN_CONCURRENCY = 16;

/**
 * The cross-process binding table: the bindings stored as tags on the bound
 * queues, read with ListQueues(prefix) + ListQueueTags and cached for
 * `refreshMs`. A cache is fresh while less than `refreshMs` has passed since
 * its scan began; a publish that finds it stale waits for a new scan (one
 * scan serves every publish waiting). So a binding made by another process is
 * seen by every publish that starts `refreshMs` or more after bindQueue
 * resolved there. Changes this process makes apply to its cache at once, and
 * are replayed on top of any scan that started before them. Routes are
 * computed once per snapshot version (core's route cache).
 */
export class BindingTable {
  readonly #client: SQSClient;
  readonly #prefix: string;
  readonly #refreshMs: number;
  #snapshot?: Snapshot;
  #scannedAt = 0;
  #scanning?: { startedAt: number; done: Promise<Snapshot> };
  /** Local changes, with the time they were made, replayed over scans that started earlier. */
  #mutations: { at: number; apply: Mutation }[] = [];
  /** Versions are unique across snapshots: a route cached from one is never taken for another's. */
  #versions = 0;
  readonly #routes = new RouteCache();

  constructor(client: SQSClient, prefix: string, refreshMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#refreshMs = refreshMs;
  }

  /** The table as of a scan begun less than `refreshMs` ago (or now, with `fresh`). */
  async snapshot({ fresh = false }: { fresh?: boolean } = {}): Promise<Snapshot> {
    if (!fresh && this.#snapshot && Date.now() - this.#scannedAt < this.#refreshMs)
      return this.#snapshot;
    return this.#scan();
  }

  /**
   * The queues a publish to `exchange` goes to. `declaredType` is the type
   * this process declared the exchange with; otherwise its bindings' tags
   * say, and an exchange without either is not found.
   */
  async route(
    exchange: string,
    routingKey: string,
    headers: Headers,
    declaredType?: ExchangeType,
  ): Promise<readonly string[]> {
    const snapshot = await this.snapshot();
    const { version } = snapshot;
    const cached = this.#routes.route(exchange, routingKey, headers, version);
    if (cached) return cached.queues;
    const { type, bindings } = this.bindingsOf(snapshot, exchange);
    const exchangeType = declaredType ?? type;
    if (exchangeType === undefined)
      throw new NotFoundError(
        `no exchange named '${exchange}': declare it before publishing to it`,
      );
    this.#routes.remember(exchange, { version, type: exchangeType, bindings });
    return this.#routes.route(exchange, routingKey, headers, version)!.queues;
  }

  bindingsOf(
    snapshot: Snapshot,
    exchange: string,
  ): { type?: ExchangeType; bindings: TaggedBinding[] } {
    const bindings: TaggedBinding[] = [];
    for (const queue of snapshot.queues.values()) {
      for (const binding of queue.bindings)
        if (binding.exchange === exchange) bindings.push(binding);
    }
    return { type: bindings[0]?.exchangeType, bindings };
  }

  recordQueue(url: string, declaration: QueueDeclaration): void {
    this.#mutate((s) => {
      if (!s.queues.has(declaration.name))
        s.queues.set(declaration.name, { url, declaration, bindings: [] });
    });
  }

  recordBinding(binding: BindingDeclaration, exchangeType: ExchangeType): void {
    this.#mutate((s) => {
      const queue = s.queues.get(binding.queue);
      if (queue && !queue.bindings.some((b) => sameBinding(b, binding)))
        queue.bindings.push({ ...binding, exchangeType });
    });
  }

  recordUnbinding(binding: BindingDeclaration): void {
    this.#mutate((s) => {
      const queue = s.queues.get(binding.queue);
      if (queue) queue.bindings = queue.bindings.filter((b) => !sameBinding(b, binding));
    });
  }

  recordQueueDeleted(name: string): void {
    this.#mutate((s) => s.queues.delete(name));
  }

  recordExchangeDeleted(exchange: string): void {
    this.#mutate((s) => {
      for (const queue of s.queues.values())
        queue.bindings = queue.bindings.filter((b) => b.exchange !== exchange);
    });
  }

  #mutate(apply: Mutation): void {
    this.#mutations.push({ at: Date.now(), apply });
    if (this.#snapshot) {
      apply(this.#snapshot);
      this.#snapshot.version = this.#nextVersion();
    }
  }

  #nextVersion(): string {
    return String(++this.#versions);
  }

  /** Joins the scan in progress if it is recent enough to count as fresh, else starts one. */
  #scan(): Promise<Snapshot> {
    const now = Date.now();
    if (this.#scanning && now - this.#scanning.startedAt < this.#refreshMs)
      return this.#scanning.done;
    const scanning = { startedAt: now, done: this.#read(now) };
    this.#scanning = scanning;
    scanning.done
      .finally(() => {
        if (this.#scanning === scanning) this.#scanning = undefined;
      })
      .catch(() => undefined);
    return scanning.done;
  }

  async #read(startedAt: number): Promise<Snapshot> {
    const urls = await this.#listQueues();
    const queues = new Map<string, ScannedQueue>();
    let next = 0;
    const worker = async () => {
      while (next < urls.length) {
        const url = urls[next++] as string;
        const { Tags } = await this.#client
          .send(new ListQueueTagsCommand({ QueueUrl: url }))
          .catch(() => ({ Tags: undefined }));
        const { declaration, bindings } = parseQueueTags(Tags);
        if (declaration) queues.set(declaration.name, { url, declaration, bindings });
      }
    };
    await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, urls.length) }, worker));
    const snapshot: Snapshot = { queues, version: this.#nextVersion() };
    // Changes made here while the scan ran may be missing from what it read.
    this.#mutations = this.#mutations.filter((m) => m.at >= startedAt - 1);
    for (const mutation of this.#mutations) mutation.apply(snapshot);
    if (startedAt >= this.#scannedAt) {
      this.#snapshot = snapshot;
      this.#scannedAt = startedAt;
    }
    return snapshot;
  }

  async #listQueues(): Promise<string[]> {
    const urls: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#client.send(
        new ListQueuesCommand({
          ...(this.#prefix ? { QueueNamePrefix: this.#prefix } : {}),
          MaxResults: 1000,
          NextToken: token,
        }),
      );
      urls.push(...(page.QueueUrls ?? []));
      token = page.NextToken;
    } while (token);
    return urls;
  }
}
