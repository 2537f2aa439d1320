import type { Connection, ConnectionOptions } from "@carrot/core";
import type { ProxyTarget } from "./fault-proxy.js";
import { globalRunner, type TestRunner } from "./runner.js";

/**
 * What `describeBackend` (and each `describe*` group) takes: how to connect,
 * and which optional groups to turn on. Only `connect` is required.
 */
export interface SuiteOptions {
  /**
   * A new, not yet connected Connection on every call: the suite opens
   * several per case (a publisher and a consumer "in two processes", a
   * reconnect) and closes every one it opens.
   */
  connect: () => Connection;
  /** describe / it / expect; by default the runner's globals (vitest `globals: true`, jest). */
  runner?: TestRunner;
  /** Run every case this many times at once on one broker, each copy with its own names. */
  stress?: number;
  /** Milliseconds any one wait may take before it fails the test (default 10 000). */
  timeoutMs?: number;
  /**
   * Turns on the network fault cases (the `faults` group): the suite puts a
   * fault-injecting TCP proxy between the client and the broker, and cuts,
   * refuses and stalls connections through it. Only for backends that talk
   * to a broker over TCP.
   */
  faults?: FaultOptions;
  /**
   * Turns on the hostile-input cases (the `hostile` group): the suite writes
   * messages straight onto the broker, as another client would, and checks
   * that none crashes or wedges a consumer. Every backend gives it.
   */
  hostile?: HostileOptions;
  /**
   * For a backend with `leases`: connections whose deliveries' leases are
   * short, so that the lease cases can hold messages past them. Required
   * when the backend declares `leases`.
   */
  leases?: LeaseOptions;
  /**
   * For a backend with `messageGroups`: how to name a queue that keeps
   * groups (one message of a group in flight at a time, deduplication), e.g.
   * SQS's `name => \`${name}.fifo\``. By default every queue does.
   */
  messageGroups?: MessageGroupOptions;
  /**
   * How another PROCESS reaches the same broker, for the cases that kill one
   * (`exclusive-kill`, `count-crash`): the URL it passes to
   * `new Connection(url)`, and the Node flags it needs (e.g.
   * `["--import", "tsx"]` to run from TypeScript sources). In-process
   * backends leave it out: a process kill means nothing to them, and those
   * cases skip, saying so.
   */
  processes?: ProcessOptions;
  /**
   * How late a delayed message may arrive, in milliseconds past its delay
   * (counted from when its `send` resolved), for a backend with
   * `delayedDelivery` (default 3 000, `DEFAULT_DELAY_TOLERANCE_MS`). Never
   * early: no tolerance applies before the delay. A backend whose delays
   * are coarser (SQS rounds up to whole seconds; RabbitMQ's delay levels
   * round up to the next level) states its own here, and its README says so.
   */
  delayToleranceMs?: number;
}

/** Turns on the `leases` group: connections with short leases (see `SuiteOptions.leases`). */
export interface LeaseOptions {
  /** A new, not yet connected Connection whose leases (visibility timeout, reclaim time) last `leaseMs`. */
  connect: () => Connection;
  /** Milliseconds a held delivery keeps its lease without renewal: the cases hold messages for a few times this. */
  leaseMs: number;
}

/** How the `messageGroups` cases name their queues (see `SuiteOptions.messageGroups`). */
export interface MessageGroupOptions {
  /** The name of a group-keeping queue made from a suite's name (only [a-z0-9-] in it). */
  queueName: (name: string) => string;
}

/** How a child process reaches the broker (see `SuiteOptions.processes`). */
export interface ProcessOptions {
  /** The URL a child process connects with: same broker, same settings as `connect`. */
  url: string;
  /** Node flags for the child process (its script is the suite's, in TypeScript when run from sources). */
  execArgv?: readonly string[];
}

/**
 * A message as another client writes it, in the broker's own terms, with
 * nothing checked: header values may be anything JSON-like, including
 * objects that look like carrot's or the client library's own tags, keys
 * such as `__proto__`, and nesting no carrot sender makes.
 */
export interface ForeignMessage {
  /** The bytes the broker stores (a backend whose broker stores text writes these as its client would). */
  body: Uint8Array;
  /** Written where the broker's clients put it, unchecked: may name no codec carrot knows. */
  contentType?: string;
  /** Written where the broker's clients put it, unchecked. */
  contentEncoding?: string;
  /**
   * As the broker's clients write headers: an AMQP field table (objects as
   * nested tables, literally, even with a `"!"` key), the headers of
   * carrot's JSON envelope as they are (Redis, SQS), or the headers object
   * itself (memory).
   */
  headers?: Record<string, unknown>;
}

/** Turns on the `hostile` group: how to write raw messages (see `SuiteOptions.hostile`). */
export interface HostileOptions {
  /** Puts `message` on `queue` with the raw client, bypassing carrot (the default exchange, or the queue's own stream). */
  write(queue: string, message: ForeignMessage): Promise<void>;
  /**
   * Backends that carry carrot's envelope as text (Redis's `m` field, SQS's
   * `carrot` attribute) write `envelope` there verbatim, with `body`, so
   * that the suite can try broken envelopes. Others leave it out.
   */
  writeEnvelope?(queue: string, envelope: string, body: Uint8Array): Promise<void>;
}

/** Turns on the `faults` group: where the broker is, and how to connect through the proxy (see `SuiteOptions.faults`). */
export interface FaultOptions {
  /** The broker's TCP address: where the proxy forwards to. */
  target: {
    /** Host name or IP address of the broker. */
    host: string;
    /** The broker's TCP port (5672 for RabbitMQ, 6379 for Redis). */
    port: number;
  };
  /**
   * A broker of several nodes whose clients connect to every node by the
   * address the broker tells them (a Redis Cluster): every node's own
   * address, `target` among them. The proxy then listens on one port for
   * each, and a fault hits the connections to all of them at once;
   * `connectThrough` gets the ports to map each node's address to.
   */
  targets?: readonly ProxyTarget[];
  /**
   * A new, not yet connected Connection to the same broker as `connect`, but
   * through 127.0.0.1:`port` (the proxy), with the backend's reconnect on and
   * a short backoff (e.g. `{ initialDelay: 50, maxDelay: 500 }`), and a
   * liveness check short enough that a connection gone silent is noticed
   * within a few seconds (e.g. `heartbeat: 1`). `overrides` (e.g.
   * `{ reconnect: false, connectTimeout: 1500 }`) go over those settings.
   * `ports` is the proxy's port for each of `targets` (or for `target`
   * alone), by its `host:port`: a cluster client maps every node's address
   * to its port there, so that none is reached around the proxy.
   */
  connectThrough: (
    port: number,
    overrides?: ConnectionOptions,
    ports?: ReadonlyMap<string, number>,
  ) => Connection;
}

/** `FaultOptions` as the suite uses them: what the proxy forwards to, `targets` when given, else `target`. */
interface ResolvedFaultOptions extends Pick<FaultOptions, "connectThrough"> {
  target: ProxyTarget | readonly ProxyTarget[];
}

export interface ResolvedOptions {
  connect: () => Connection;
  runner: TestRunner;
  stress: number;
  timeoutMs: number;
  faults?: ResolvedFaultOptions;
  hostile?: HostileOptions;
  leases?: LeaseOptions;
  messageGroups?: MessageGroupOptions;
  processes?: ProcessOptions;
  delayToleranceMs: number;
}

/** The default of `SuiteOptions.timeoutMs`: ms any one wait may take. Case deadlines are multiples of it. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The default of `SuiteOptions.delayToleranceMs`: how late a delayed message
 * may come. One second for a backend that rounds delays up to whole seconds
 * (SQS's `DelaySeconds`), one for a poll that was already waiting when the
 * message became due (a long poll, a sweeper's tick), one for a loaded
 * two-core machine running several brokers.
 */
export const DEFAULT_DELAY_TOLERANCE_MS = 3_000;

export function resolveOptions(options: SuiteOptions): ResolvedOptions {
  if (typeof options?.connect !== "function") {
    throw new Error(
      "@carrot/conformance: options.connect must be a function returning a new Connection",
    );
  }
  const stress = options.stress ?? 1;
  if (!(Number.isInteger(stress) && stress >= 1))
    throw new Error(`@carrot/conformance: stress must be a whole number >= 1, got ${stress}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0))
    throw new Error(`@carrot/conformance: timeoutMs must be > 0, got ${timeoutMs}`);
  const { faults } = options;
  if (faults !== undefined) {
    const { target } = faults;
    if (typeof faults.connectThrough !== "function")
      throw new Error(
        "@carrot/conformance: faults.connectThrough must be a function (port, overrides?, ports?) returning a new Connection through 127.0.0.1:port",
      );
    if (!isAddress(target))
      throw new Error(
        `@carrot/conformance: faults.target must be { host, port } of the broker, got ${JSON.stringify(target)}`,
      );
    const { targets } = faults;
    if (
      targets !== undefined &&
      !(Array.isArray(targets) && targets.length > 0 && targets.every(isAddress))
    )
      throw new Error(
        `@carrot/conformance: faults.targets must be a non-empty array of { host, port }, one per node of the broker, got ${JSON.stringify(targets)}`,
      );
  }
  const { hostile } = options;
  if (hostile !== undefined && typeof hostile.write !== "function")
    throw new Error(
      "@carrot/conformance: hostile.write must be a function (queue, message) writing a raw message with the broker's own client",
    );
  const { leases, messageGroups, processes } = options;
  if (leases !== undefined && !(typeof leases.connect === "function" && leases.leaseMs > 0))
    throw new Error(
      `@carrot/conformance: leases must be { connect: () => Connection, leaseMs > 0 }, got leaseMs ${leases.leaseMs}`,
    );
  if (messageGroups !== undefined && typeof messageGroups.queueName !== "function")
    throw new Error(
      "@carrot/conformance: messageGroups.queueName must be a function (name) => the name of a group-keeping queue",
    );
  if (processes !== undefined && typeof processes.url !== "string")
    throw new Error(
      "@carrot/conformance: processes.url must be the URL a child process connects with",
    );
  const delayToleranceMs = options.delayToleranceMs ?? DEFAULT_DELAY_TOLERANCE_MS;
  if (!(delayToleranceMs >= 0 && Number.isFinite(delayToleranceMs)))
    throw new Error(
      `@carrot/conformance: delayToleranceMs must be a finite number of milliseconds >= 0, got ${delayToleranceMs}`,
    );
  return {
    connect: options.connect,
    runner: options.runner ?? globalRunner(),
    stress,
    timeoutMs,
    faults: faults && resolveFaults(faults),
    hostile,
    leases,
    messageGroups,
    processes,
    delayToleranceMs,
  };
}

function isAddress(address: ProxyTarget | undefined): boolean {
  return (
    typeof address?.host === "string" &&
    Number.isInteger(address.port) &&
    address.port > 0 &&
    address.port < 65_536
  );
}

/** The proxy is started for every target. */
function resolveFaults(faults: FaultOptions): ResolvedFaultOptions {
  return { target: faults.targets ?? faults.target, connectThrough: faults.connectThrough };
}
