import { once } from "node:events";
import {
  type AddressInfo,
  createConnection,
  createServer,
  type Server,
  type Socket,
} from "node:net";

/** Where a FaultProxy forwards to: the broker's TCP address. */
export interface ProxyTarget {
  /** Host name or IP address of the broker. */
  host: string;
  /** The broker's TCP port. */
  port: number;
}

/** What a proxy started for several targets listens for: one of them, on a port of its own. */
interface Listener {
  readonly server: Server;
  readonly target: ProxyTarget;
}

/** One client socket and the socket it opened to the target. */
interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Chunks read while stalled, per direction, forwarded when the stall ends. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** Silenced for good: open, but no byte will ever pass again. */
  silenced: boolean;
}

/**
 * A TCP proxy between a client and a broker that breaks the network on
 * command, for the fault cases: `cut()` drops every open connection (both
 * sides at once), `refuse(true)` closes new connections as they arrive, and
 * `stall(true)` keeps the sockets open but passes no byte either way, as a
 * dead network path does, and `silence()` does that for good to the
 * connections open at the time. It listens on 127.0.0.1 only, on a free port.
 *
 * Started for several targets (the nodes of a cluster), it listens on one
 * port per target, and each fault hits the connections to all of them at
 * once, as when the client's own network fails.
 *
 * Bytes are forwarded by hand rather than with `pipe()`: a pipe resumes its
 * source whenever the destination drains, which would leak bytes through a
 * stall. Backpressure is kept: a side that cannot write pauses the other.
 */
export class FaultProxy {
  /** Where it forwards to (a copy of what `start` was given; the first target when it was given several). */
  readonly target: ProxyTarget;
  readonly #listeners: readonly Listener[];
  readonly #links = new Set<Link>();
  readonly #seenListeners = new Set<() => void>();
  #refusing = false;
  #stalled = false;
  #seen = 0;
  #cuts = 0;
  #silenced = 0;

  private constructor(targets: readonly ProxyTarget[]) {
    this.#listeners = targets.map((target) => ({ server: createServer(), target: { ...target } }));
    this.target = (this.#listeners[0] as Listener).target;
  }

  /**
   * Starts listening on 127.0.0.1 at a free port, forwarding to `target`;
   * given several targets, at a free port for each (see `ports`).
   */
  static async start(target: ProxyTarget | readonly ProxyTarget[]): Promise<FaultProxy> {
    const targets = Array.isArray(target)
      ? (target as readonly ProxyTarget[])
      : [target as ProxyTarget];
    if (targets.length === 0) throw new Error("FaultProxy.start needs at least one target");
    const proxy = new FaultProxy(targets);
    try {
      for (const { server, target } of proxy.#listeners) {
        server.on("connection", (client) => proxy.#accept(client, target));
        server.listen(0, "127.0.0.1");
        await Promise.race([
          once(server, "listening"),
          once(server, "error").then(([error]) => {
            throw error;
          }),
        ]);
      }
    } catch (error) {
      await proxy.close();
      throw error;
    }
    return proxy;
  }

  /** The port it listens on, at 127.0.0.1: connect the client there (for the first target, when it has several). */
  get port(): number {
    return portOf((this.#listeners[0] as Listener).server);
  }

  /**
   * The port it listens on for each target, by the target's `host:port`: what
   * a cluster client maps each node's own address to, so that it reaches every
   * node through the proxy.
   */
  get ports(): ReadonlyMap<string, number> {
    return new Map(
      this.#listeners.map(({ server, target }) => [
        `${target.host}:${target.port}`,
        portOf(server),
      ]),
    );
  }

  /** Connections that reached the proxy since it started, refused ones included. */
  get connectionsSeen(): number {
    return this.#seen;
  }

  /** Connections open through the proxy now. */
  get openConnections(): number {
    return this.#links.size;
  }

  /** How many times `cut()` was called. */
  get cuts(): number {
    return this.#cuts;
  }

  /** Whether new connections are closed as they arrive (`refuse(true)`). */
  get refusing(): boolean {
    return this.#refusing;
  }

  /** Whether open connections pass no bytes (`stall(true)`). */
  get stalled(): boolean {
    return this.#stalled;
  }

  /** What the proxy holds, for failure messages: each open connection and its byte counts. */
  describe(): string {
    const links = [...this.#links].map(({ client, upstream, held }) => {
      const state = (socket: Socket) => (socket.isPaused() ? "paused" : "flowing");
      const heldBytes = [...held.toUpstream, ...held.toClient].reduce((n, b) => n + b.length, 0);
      return `client :${client.remotePort} sent ${client.bytesRead} B (${state(client)}), got ${client.bytesWritten} B (${state(upstream)})${heldBytes ? `, ${heldBytes} B held` : ""}`;
    });
    const flags = [this.#refusing && "refusing", this.#stalled && "stalled"].filter(Boolean);
    const ports = this.#listeners.map(({ server }) => `:${portOf(server)}`).join(",");
    return `proxy ${ports}${flags.length ? ` (${flags.join(", ")})` : ""}: ${this.#seen} connection(s) seen, ${this.#cuts} cut(s), ${this.#silenced} silenced, ${links.length} open${links.length ? `: ${links.join("; ")}` : ""}`;
  }

  /** Drops every open connection: the client gets a reset, the target a close. */
  cut(): void {
    this.#cuts++;
    for (const link of this.#links) this.#drop(link, true);
  }

  /**
   * The connections open now go silent for good, as when a NAT or a firewall
   * forgets them: they stay open, no byte passes on them any more either way,
   * and nothing tells either side. Only a client that notices the silence
   * (a heartbeat, a request timeout) gets out; connections it opens
   * afterwards pass as usual. Returns how many were silenced.
   */
  silence(): number {
    let count = 0;
    for (const link of this.#links) {
      if (link.silenced) continue;
      link.silenced = true;
      link.held.toUpstream.length = 0;
      link.held.toClient.length = 0;
      link.client.pause();
      link.upstream.pause();
      count++;
    }
    this.#silenced += count;
    return count;
  }

  /**
   * Ends every fault: new connections are accepted and forwarded again, held
   * bytes flow, and silenced connections, which never carry anything again,
   * are reset so that their clients find out.
   */
  heal(): void {
    this.refuse(false);
    this.stall(false);
    for (const link of this.#links) if (link.silenced) this.#drop(link, true);
  }

  /** While on, a new connection is reset as soon as it arrives; off accepts and forwards again. */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  /**
   * While on, no byte passes in either direction, on open connections and on
   * ones accepted meanwhile; off forwards what was held back, then carries on.
   */
  stall(on: boolean): void {
    if (this.#stalled === on) return;
    this.#stalled = on;
    for (const link of this.#links) {
      if (on) {
        link.client.pause();
        link.upstream.pause();
      } else {
        this.#flush(link);
      }
    }
  }

  /** Resolves once `count` connections in all have reached the proxy. */
  async untilSeen(count: number): Promise<void> {
    if (this.#seen >= count) return;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.#seen < count) return;
        this.#seenListeners.delete(check);
        resolve();
      };
      this.#seenListeners.add(check);
    });
  }

  /** Drops every connection and stops listening. */
  async close(): Promise<void> {
    for (const link of this.#links) this.#drop(link, true);
    await Promise.all(
      this.#listeners.map(async ({ server }) => {
        if (!server.listening) return;
        const closed = once(server, "close");
        server.close();
        await closed;
      }),
    );
  }

  #accept(client: Socket, target: ProxyTarget): void {
    this.#seen++;
    for (const listener of [...this.#seenListeners]) listener();
    if (this.#refusing) {
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port });
    const link: Link = {
      client,
      upstream,
      held: { toUpstream: [], toClient: [] },
      silenced: false,
    };
    this.#links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const socket of [client, upstream]) {
      socket.on("error", () => this.#drop(link, false));
      socket.on("close", () => this.#drop(link, false));
    }
    this.#forward(link, client, upstream, link.held.toUpstream);
    this.#forward(link, upstream, client, link.held.toClient);
    if (this.#stalled) {
      client.pause();
      upstream.pause();
    }
  }

  #forward(link: Link, from: Socket, to: Socket, held: Buffer[]): void {
    from.on("data", (chunk: Buffer) => {
      if (link.silenced) {
        from.pause(); // a chunk already read: dropped, like everything after it
        return;
      }
      // A chunk already read when the stall began waits for the stall to end.
      if (this.#stalled || held.length > 0) {
        held.push(chunk);
        from.pause();
        return;
      }
      this.#write(link, from, to, chunk);
    });
    from.on("end", () => {
      if (held.length === 0 && !link.silenced) to.end();
    });
  }

  #write(link: Link, from: Socket, to: Socket, chunk: Buffer): void {
    if (to.destroyed) return;
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", () => {
        if (!this.#stalled && !link.silenced && this.#links.has(link)) from.resume();
      });
    }
  }

  #flush(link: Link): void {
    if (link.silenced) return;
    const pairs: [Socket, Socket, Buffer[]][] = [
      [link.client, link.upstream, link.held.toUpstream],
      [link.upstream, link.client, link.held.toClient],
    ];
    for (const [from, to, held] of pairs) {
      for (const chunk of held.splice(0)) this.#write(link, from, to, chunk);
      if (from.readableEnded) to.end();
      else if (to.writableNeedDrain !== true) from.resume();
    }
  }

  #drop(link: Link, reset: boolean): void {
    if (!this.#links.delete(link)) return;
    if (reset && !link.client.destroyed) link.client.resetAndDestroy();
    else link.client.destroy();
    link.upstream.destroy();
  }
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}
