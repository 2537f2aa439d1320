import { once } from "node:events";
import {
  type AddressInfo,
  createConnection,
  createServer,
  type Server,
  type Socket,
} from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FaultProxy } from "../src/fault-proxy.js";
import { withTimeout } from "../src/wait-for.js";

// Real sockets on loopback: an echo server behind the proxy, clients in front.

const WAIT_MS = 5_000;

interface Echo {
  server: Server;
  port: number;
  /** Sockets the echo server accepted, in order. */
  sockets: Socket[];
}

async function startEcho(): Promise<Echo> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

/** A client socket that collects what it receives and can wait for it. */
class Client {
  readonly socket: Socket;
  received = "";
  readonly #waiters = new Set<() => void>();

  constructor(port: number) {
    this.socket = createConnection({ host: "127.0.0.1", port });
    this.socket.setEncoding("utf8");
    this.socket.on("data", (text: string) => {
      this.received += text;
      for (const wake of [...this.#waiters]) wake();
    });
    this.socket.on("error", () => {});
  }

  async connected(): Promise<void> {
    await withTimeout(once(this.socket, "connect"), WAIT_MS, "the client's connect");
  }

  async until(text: string): Promise<void> {
    if (this.received.includes(text)) return;
    await withTimeout(
      new Promise<void>((resolve) => {
        const wake = () => {
          if (!this.received.includes(text)) return;
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      }),
      WAIT_MS,
      `'${text}' back from the echo server`,
      () => `the client has '${this.received}'`,
    );
  }

  /** Resolves once the socket is closed, by either side. */
  async closed(): Promise<void> {
    if (this.socket.closed) return;
    // Not events.once: that rejects on the "error" (a reset) that comes before the close.
    const closed = new Promise<void>((resolve) => this.socket.once("close", () => resolve()));
    await withTimeout(closed, WAIT_MS, "the client socket to close");
  }
}

describe("FaultProxy", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setup(): Promise<{ echo: Echo; proxy: FaultProxy }> {
    const echo = await startEcho();
    cleanup.push(() => {
      for (const socket of echo.sockets) socket.destroy();
      return new Promise<void>((resolve) => echo.server.close(() => resolve()));
    });
    const proxy = await FaultProxy.start({ host: "127.0.0.1", port: echo.port });
    cleanup.push(() => proxy.close());
    return { echo, proxy };
  }

  function client(port: number): Client {
    const c = new Client(port);
    cleanup.push(() => void c.socket.destroy());
    return c;
  }

  /**
   * A round trip to the echo server through a second, healthy proxy: once it
   * is back, the sockets under test have had every chance to pass bytes, so
   * what they have not passed they hold back.
   */
  async function roundTripElsewhere(echo: Echo): Promise<void> {
    const other = await FaultProxy.start({ host: "127.0.0.1", port: echo.port });
    cleanup.push(() => other.close());
    const probe = client(other.port);
    await probe.connected();
    probe.socket.write("probe");
    await probe.until("probe");
  }

  it("listens on 127.0.0.1 at a free port and forwards both ways", async () => {
    const { echo, proxy } = await setup();
    expect(proxy.port).toBeGreaterThan(0);
    expect(proxy.port).not.toBe(echo.port);
    const c = client(proxy.port);
    await c.connected();
    c.socket.write("hello");
    await c.until("hello");
    c.socket.write(" world");
    await c.until("hello world");
    expect(proxy.connectionsSeen).toBe(1);
    expect(proxy.openConnections).toBe(1);
  });

  it("carries a large transfer intact (backpressure both ways)", async () => {
    const { proxy } = await setup();
    const c = client(proxy.port);
    await c.connected();
    const big = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
    c.socket.write(`${big}END`);
    await c.until("END");
    expect(c.received.length).toBe(big.length + 3);
    expect(c.received).toBe(`${big}END`);
  });

  it("cut() drops every open connection, both sides, and later connections work", async () => {
    const { echo, proxy } = await setup();
    const a = client(proxy.port);
    const b = client(proxy.port);
    await Promise.all([a.connected(), b.connected()]);
    a.socket.write("a");
    b.socket.write("b");
    await Promise.all([a.until("a"), b.until("b")]);
    proxy.cut();
    await Promise.all([a.closed(), b.closed()]);
    await withTimeout(
      Promise.all(
        echo.sockets.map(
          (s) => new Promise((resolve) => (s.closed ? resolve(0) : s.once("close", resolve))),
        ),
      ),
      WAIT_MS,
      "the upstream sockets to close",
    );
    expect(proxy.cuts).toBe(1);
    expect(proxy.openConnections).toBe(0);
    const c = client(proxy.port);
    await c.connected();
    c.socket.write("again");
    await c.until("again");
    expect(proxy.connectionsSeen).toBe(3);
  });

  it("refuse(true) closes new connections at once without reaching the target; refuse(false) accepts again", async () => {
    const { echo, proxy } = await setup();
    proxy.refuse(true);
    const refused = client(proxy.port);
    await refused.closed();
    expect(refused.received).toBe("");
    await proxy.untilSeen(1);
    expect(echo.sockets).toHaveLength(0);
    proxy.refuse(false);
    const accepted = client(proxy.port);
    await accepted.connected();
    accepted.socket.write("ok");
    await accepted.until("ok");
    expect(proxy.connectionsSeen).toBe(2);
    expect(echo.sockets).toHaveLength(1);
  });

  it("refuse(true) leaves connections that are already open alone", async () => {
    const { proxy } = await setup();
    const c = client(proxy.port);
    await c.connected();
    proxy.refuse(true);
    c.socket.write("still here");
    await c.until("still here");
  });

  it("stall(true) passes no byte either way; stall(false) delivers what was held, in order", async () => {
    const { echo, proxy } = await setup();
    const c = client(proxy.port);
    await c.connected();
    c.socket.write("before|");
    await c.until("before|");
    proxy.stall(true);
    // Client to target is stalled: the echo server must see nothing of this.
    let echoed = 0;
    const upstream = echo.sockets[0]!;
    upstream.on("data", (chunk: Buffer) => {
      echoed += chunk.length;
    });
    c.socket.write("during|");
    // Target to client is stalled too: bytes the server writes do not arrive.
    upstream.write("server-says|");
    // A new connection is accepted but gets no data through either.
    const late = client(proxy.port);
    await late.connected();
    late.socket.write("late|");
    await proxy.untilSeen(2);
    await roundTripElsewhere(echo);
    expect(c.received).toBe("before|");
    expect(echoed).toBe(0);
    expect(late.received).toBe("");
    proxy.stall(false);
    await c.until("server-says|");
    await c.until("during|");
    expect(c.received).toBe("before|server-says|during|");
    await late.until("late|");
    expect(late.received).toBe("late|");
  });

  it("silence() passes no byte on the open connections ever again, closes none, and lets new ones through", async () => {
    const { echo, proxy } = await setup();
    const c = client(proxy.port);
    await c.connected();
    c.socket.write("before|");
    await c.until("before|");
    expect(proxy.silence()).toBe(1);
    let echoed = 0;
    const upstream = echo.sockets[0]!;
    upstream.on("data", (chunk: Buffer) => {
      echoed += chunk.length;
    });
    c.socket.write("during|");
    upstream.write("server-says|");
    // Ending a stall does not bring a silenced connection back.
    proxy.stall(true);
    proxy.stall(false);
    const fresh = client(proxy.port);
    await fresh.connected();
    fresh.socket.write("fresh");
    await fresh.until("fresh"); // new connections pass
    await roundTripElsewhere(echo);
    expect(c.received).toBe("before|");
    expect(echoed).toBe(0);
    expect(c.socket.closed).toBe(false);
    expect(upstream.closed).toBe(false);
    expect(proxy.silence()).toBe(1); // the fresh one; the first stays silenced
    expect(proxy.describe()).toMatch(/2 silenced/);
  });

  it("heal() resets silenced connections, ends a stall and a refusal", async () => {
    const { proxy } = await setup();
    const silenced = client(proxy.port);
    const stalled = client(proxy.port);
    await Promise.all([silenced.connected(), stalled.connected()]);
    await proxy.untilSeen(2); // accepted by the proxy too, so that silence() finds them
    expect(proxy.silence()).toBe(2);
    const later = client(proxy.port);
    await later.connected();
    proxy.stall(true);
    later.socket.write("held");
    proxy.refuse(true);
    proxy.heal();
    await silenced.closed(); // the client finds out at last
    await stalled.closed(); // silenced too: it was open at the time
    await later.until("held");
    const fresh = client(proxy.port);
    await fresh.connected();
    fresh.socket.write("ok");
    await fresh.until("ok");
  });

  it("close() drops the connections and stops listening", async () => {
    const { proxy } = await setup();
    const c = client(proxy.port);
    await c.connected();
    const port = proxy.port;
    await proxy.close();
    await c.closed();
    const after = createConnection({ host: "127.0.0.1", port });
    const [error] = await withTimeout(once(after, "error"), WAIT_MS, "a refused connect");
    expect((error as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });
});
