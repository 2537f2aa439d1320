import { describe, expect, it } from "vitest";
import { ClosedError } from "../../src/errors.js";
import { BackendEventEmitter } from "../../src/events.js";
import { ConnectionLifecycle } from "../../src/kit/connection-lifecycle.js";

/** A lifecycle whose events are written down in order, as "name" or "name:detail". */
function recorded() {
  const events = new BackendEventEmitter();
  const seen: string[] = [];
  events.on("connect", () => seen.push("connect"));
  events.on("disconnect", ({ error }) =>
    seen.push(error ? `disconnect:${error.message}` : "disconnect"),
  );
  events.on("reconnect", ({ attempt }) => seen.push(`reconnect:${attempt}`));
  const lifecycle = new ConnectionLifecycle<string>(events, "h:1", "test connection (h:1)");
  return { lifecycle, seen };
}

describe("ConnectionLifecycle", () => {
  it("opens once for concurrent connects and reports connect once", async () => {
    const { lifecycle, seen } = recorded();
    let opens = 0;
    const open = async () => `socket ${++opens}`;
    await Promise.all([lifecycle.connect(open, () => {}), lifecycle.connect(open, () => {})]);
    await lifecycle.connect(open, () => {});
    expect(opens).toBe(1);
    expect(lifecycle.state).toBe("open");
    expect(seen).toEqual(["connect"]);
  });

  it("tries again after a failed attempt", async () => {
    const { lifecycle, seen } = recorded();
    let opens = 0;
    const open = async () => {
      opens++;
      if (opens === 1) throw new Error("refused");
      return "socket";
    };
    await expect(lifecycle.connect(open, () => {})).rejects.toThrow("refused");
    expect(lifecycle.state).toBe("new");
    await lifecycle.connect(open, () => {});
    expect(seen).toEqual(["connect"]);
  });

  it("releases what an attempt opened when closed while connecting", async () => {
    const { lifecycle, seen } = recorded();
    let finishOpen!: (socket: string) => void;
    const abandoned: string[] = [];
    const connecting = lifecycle.connect(
      () => new Promise<string>((resolve) => (finishOpen = resolve)),
      (socket) => abandoned.push(socket),
    );
    const closing = lifecycle.close(async () => {
      throw new Error("release must not run: nothing was open");
    });
    finishOpen("socket");
    await expect(connecting).rejects.toThrow(
      new ClosedError("the test connection (h:1) was closed while connecting"),
    );
    await closing;
    expect(abandoned).toEqual(["socket"]);
    expect(seen).toEqual([]);
  });

  it("adopts what was opened before reporting connect, and never what an attempt abandoned", async () => {
    const { lifecycle, seen } = recorded();
    const adopt = (socket: string) => seen.push(`adopt:${socket}`);
    await lifecycle.connect(
      async () => "socket",
      () => {},
      adopt,
    );
    expect(seen).toEqual(["adopt:socket", "connect"]);

    const closing = recorded();
    let finishOpen!: (socket: string) => void;
    const connecting = closing.lifecycle.connect(
      () => new Promise<string>((resolve) => (finishOpen = resolve)),
      () => {},
      (socket) => closing.seen.push(`adopt:${socket}`),
    );
    const closed = closing.lifecycle.close(async () => {});
    finishOpen("late");
    await expect(connecting).rejects.toBeInstanceOf(ClosedError);
    await closed;
    expect(closing.seen).toEqual([]);
  });

  it("reports disconnect once on close, and refuses everything after", async () => {
    const { lifecycle, seen } = recorded();
    await lifecycle.connect(
      async () => "socket",
      () => {},
    );
    const released: string[] = [];
    await lifecycle.close(async () => {
      released.push("released");
    });
    await lifecycle.close(async () => {
      released.push("twice");
    });
    expect(released).toEqual(["released"]);
    expect(seen).toEqual(["connect", "disconnect"]);
    expect(() => lifecycle.assertNotClosed()).toThrow(
      new ClosedError("this test connection (h:1) is closed; open a new Connection"),
    );
    await expect(
      lifecycle.connect(
        async () => "again",
        () => {},
      ),
    ).rejects.toBeInstanceOf(ClosedError);
  });

  it("reports a loss once per outage, a recovery once, and no second disconnect on close after a loss", async () => {
    const { lifecycle, seen } = recorded();
    await lifecycle.connect(
      async () => "socket",
      () => {},
    );
    lifecycle.lost(new Error("reset"));
    lifecycle.lost(new Error("reset again"));
    expect(lifecycle.up).toBe(false);
    lifecycle.regained(3);
    lifecycle.regained(4);
    expect(lifecycle.up).toBe(true);
    lifecycle.lost(new Error("gone"));
    await lifecycle.close(async () => {});
    expect(seen).toEqual([
      "connect",
      "disconnect:reset",
      "connect",
      "reconnect:3",
      "disconnect:gone",
    ]);
  });

  it("ignores losses and recoveries before it opened and after it closed", async () => {
    const { lifecycle, seen } = recorded();
    lifecycle.lost(new Error("early"));
    lifecycle.regained(1);
    await lifecycle.connect(
      async () => "socket",
      () => {},
    );
    await lifecycle.close(async () => {});
    lifecycle.lost(new Error("late"));
    lifecycle.regained(1);
    expect(seen).toEqual(["connect", "disconnect"]);
  });
});
