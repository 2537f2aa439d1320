import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Connection } from "../src/connection.js";
import { Consumer } from "../src/consumer.js";
import type { Backend, Delivery } from "../src/contract.js";
import { ConnectionLostError, InvalidOptionsError } from "../src/errors.js";
import { BackendEventEmitter } from "../src/events.js";
import type { Logger } from "../src/telemetry/logger.js";
import { plainCapabilities, quietBackend } from "./support/test-backend.js";

// The `logger` option: what carrot logs, in which call shape (pino's
// `(fields, message)`), and the process warning it replaces.

/** A backend that delivers `bodies` to the consumer, and emits the events the test asks for. */
function eventedBackend(bodies: string[] = []) {
  const events = new BackendEventEmitter();
  const backend: Backend = {
    ...quietBackend("evented", plainCapabilities(1024)),
    connect: async () => events.emit("connect", { host: "broker:5672" }),
    close: async () => events.emit("disconnect", { host: "broker:5672" }),
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    consume: async (queue, options, onDelivery) => {
      for (const body of bodies) onDelivery(delivery(queue, body));
      return { consumerTag: options.consumerTag, cancel: async () => undefined };
    },
  };
  return { backend, events };
}

function delivery(queue: string, body: string): Delivery {
  return {
    message: {
      body: new TextEncoder().encode(JSON.stringify(body)),
      contentType: "application/json",
      headers: Object.create(null),
      properties: {},
    },
    info: { exchange: "", routingKey: queue, redelivered: false, queue },
    ack: async () => undefined,
    reject: async () => undefined,
  };
}

/** A logger that records each call as [level, fields, message]. */
function recordingLogger() {
  const calls: [string, Record<string, unknown>, string][] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      calls.push([level, fields, message]);
    };
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, calls };
}

/** A consumer of one message whose callback throws `error`, run to its end. */
async function failingCallback(connection: Connection, error: Error): Promise<void> {
  const consumer = new Consumer(connection, {
    queue: "jobs",
    retry: { attempts: 1, exhausted: "drop" },
  });
  consumer.registerCallback(() => {
    throw error;
  });
  await consumer.wait({ limit: 1 });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a consumer error nobody listens for", () => {
  it("goes to logger.warn as (fields, message): the cause as `err`, its message in the sentence; no process warning", async () => {
    const warning = vi.spyOn(process, "emitWarning");
    const { logger, calls } = recordingLogger();
    const { backend } = eventedBackend(["a"]);
    const connection = new Connection({ backend, logger });
    const boom = new TypeError("boom: no such feed");
    await failingCallback(connection, boom);
    await connection.close();
    const warned = calls.filter(([level]) => level === "warn");
    expect(warned).toHaveLength(1);
    const [, fields, message] = warned[0]!;
    expect(fields).toEqual({ queue: "jobs", code: "ERR_CARROT_CALLBACK", err: boom });
    expect(message).toBe(
      `CallbackError: a callback on 'jobs' threw; the message was dropped after 1 attempt (exhausted: "drop"); caused by TypeError: boom: no such feed`,
    );
    expect(warning).not.toHaveBeenCalled();
  });

  it("with pino: one JSON line at level warn, with the cause's message and stack", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const { backend } = eventedBackend(["a"]);
    const connection = new Connection({ backend, logger: pino({ base: null }, destination) });
    await failingCallback(connection, new RangeError("feed too long"));
    await connection.close();
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const warned = entries.filter((entry) => entry.level === 40);
    expect(warned).toHaveLength(1);
    const [entry] = warned as [{ msg: string; queue: string; err: Record<string, string> }];
    expect(entry.queue).toBe("jobs");
    expect(entry.msg).toContain("caused by RangeError: feed too long");
    expect(entry.err.type).toBe("RangeError");
    expect(entry.err.message).toBe("feed too long");
    expect(entry.err.stack).toContain("RangeError: feed too long");
    expect(entry.err.stack).toContain("logger.test.ts");
    // The connection's life, at info: connected, then closed.
    expect(entries.filter((e) => e.level === 30).map((e) => e.msg)).toEqual([
      "carrot connected to broker:5672",
      "carrot closed its connection to broker:5672",
    ]);
  });

  it("with console: the same call, which console prints with the error's stack", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "info").mockImplementation(() => undefined);
    const { backend } = eventedBackend(["a"]);
    const connection = new Connection({ backend, logger: console });
    const boom = new Error("boom");
    await failingCallback(connection, boom);
    await connection.close();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatchObject({ err: boom, queue: "jobs" });
    expect(warn.mock.calls[0]![1]).toContain("caused by Error: boom");
  });

  it("without a logger it stays a process warning, whose detail shows the cause's message and stack", async () => {
    const warning = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const { backend } = eventedBackend(["a"]);
    const connection = new Connection({ backend });
    await failingCallback(connection, new SyntaxError("bad feed"));
    await connection.close();
    expect(warning).toHaveBeenCalledTimes(1);
    const [message, options] = warning.mock.calls[0]! as [string, { type: string; detail: string }];
    expect(message).toContain("a callback on 'jobs' threw");
    expect(options.type).toBe("CallbackError");
    expect(options.detail).toContain("SyntaxError: bad feed");
    expect(options.detail).toContain("logger.test.ts"); // the stack
  });
});

describe("the connection's life", () => {
  it("connected and reconnected at info, lost at warn with why, handled errors at warn; never the password", async () => {
    const { logger, calls } = recordingLogger();
    const { backend, events } = eventedBackend();
    const connection = new Connection({ backend, password: "hunter2", logger });
    await connection.connect();
    events.emit("disconnect", {
      host: "broker:5672",
      error: new ConnectionLostError("socket closed by amqp://guest:hunter2@broker:5672"),
    });
    events.emit("connect", { host: "broker:5672" }); // a reconnection's own: left to `reconnect`
    events.emit("reconnect", { host: "broker:5672", attempt: 2 });
    events.emit("error", { error: new Error("channel closed; password=hunter2") });
    await connection.close();
    expect(calls.map(([level, , message]) => [level, message])).toEqual([
      ["info", "carrot connected to broker:5672"],
      [
        "warn",
        "carrot lost its connection to broker:5672: ConnectionLostError: socket closed by amqp://guest:***@broker:5672",
      ],
      ["info", "carrot reconnected to broker:5672 (attempt 2)"],
      ["warn", "carrot: Error: channel closed; password=***"],
      ["info", "carrot closed its connection to broker:5672"],
    ]);
    expect(calls[1]![1]).toEqual({ host: "broker:5672", code: "ERR_CARROT_CONNECTION_LOST" });
    expect(calls[2]![1]).toEqual({ host: "broker:5672", attempt: 2 });
    expect(JSON.stringify(calls)).not.toContain("hunter2");
  });
});

describe("the option", () => {
  it("takes any object with debug, info, warn and error; refuses others, and a misspelt name", () => {
    const { backend } = eventedBackend();
    expect(() => new Connection({ backend, logger: { warn() {} } as never })).toThrow(
      /logger must have the methods debug, info, warn and error \(pino, console...\); it lacks debug, info, error/,
    );
    expect(() => new Connection({ backend, logger: "console" as never })).toThrow(
      InvalidOptionsError,
    );
    expect(() => new Connection({ backend, loger: console } as never)).toThrow(
      /unknown option 'loger' for a Connection; did you mean 'logger'\?/,
    );
  });
});
