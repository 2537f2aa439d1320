import { describe, expect, it } from "vitest";
import { Connection } from "../src/connection.js";
import { Consumer } from "../src/consumer.js";
import type { Backend } from "../src/contract.js";
import { InvalidOptionsError, NotFoundError, UnsupportedFeatureError } from "../src/errors.js";
import { Publisher } from "../src/publisher.js";
import { plainCapabilities, quietBackend } from "./support/test-backend.js";

/** A backend that logs each topology call ("declareQueue q", "checkExchange x"...), with or without the checks. */
function loggingBackend(canCheck: boolean, existing: readonly string[] = []) {
  const log: string[] = [];
  const logged =
    (method: string) =>
    async (arg: string | { name?: string; queue?: string; exchange?: string }) => {
      const name = typeof arg === "string" ? arg : (arg.name ?? `${arg.queue}<-${arg.exchange}`);
      log.push(`${method} ${name}`);
    };
  const check = (method: string) => async (name: string) => {
    log.push(`${method} ${name}`);
    if (!existing.includes(name)) throw new NotFoundError(`no such thing as '${name}'`);
  };
  const backend: Backend = {
    ...quietBackend("logging", plainCapabilities(1024)),
    declareExchange: logged("declareExchange"),
    declareQueue: logged("declareQueue"),
    bindQueue: logged("bindQueue"),
    ...(canCheck ? { checkQueue: check("checkQueue"), checkExchange: check("checkExchange") } : {}),
  };
  return { log, connection: new Connection({ backend }) };
}

const route = { queue: "q", exchange: "x", routingKey: "k" };

describe("passive", () => {
  it("a Consumer checks its exchange and queue, creates neither, and binds", async () => {
    const { log, connection } = loggingBackend(true, ["x", "q"]);
    await new Consumer(connection, { ...route, passive: true }).declare();
    expect(log).toEqual(["checkExchange x", "checkQueue q", "bindQueue q<-x"]);
  });

  it("a Consumer of a missing queue fails with NotFoundError and binds nothing", async () => {
    const { log, connection } = loggingBackend(true, ["x"]);
    const consumer = new Consumer(connection, { ...route, passive: true });
    await expect(consumer.fetch()).rejects.toBeInstanceOf(NotFoundError);
    expect(log).toEqual(["checkExchange x", "checkQueue q"]);
  });

  it("a Publisher checks its exchange before its first send, and creates nothing", async () => {
    const { log, connection } = loggingBackend(true, ["x"]);
    await new Publisher(connection, { exchange: "x", passive: true }).send("checked");
    const missing = new Publisher(connection, { exchange: "y", passive: true });
    await expect(missing.send("lost")).rejects.toBeInstanceOf(NotFoundError);
    expect(log).toEqual(["checkExchange x", "checkExchange y"]);
  });

  it("the default exchange always exists: nothing is asked for it", async () => {
    const { log, connection } = loggingBackend(true);
    await new Publisher(connection, { passive: true }).declare();
    await connection.declareExchange({ name: "", passive: true });
    expect(log).toEqual([]);
  });

  it("is refused with UnsupportedFeatureError by a backend that cannot check, never declared instead", async () => {
    const { log, connection } = loggingBackend(false);
    await expect(new Consumer(connection, { ...route, passive: true }).declare()).rejects.toThrow(
      new UnsupportedFeatureError(
        "the logging backend does not support passive declarations: it cannot tell whether exchange 'x' exists without creating it. Declare it (without passive), or leave the topology to your infrastructure with declare: false",
      ),
    );
    await expect(
      new Publisher(connection, { exchange: "x", passive: true }).send("unchecked"),
    ).rejects.toBeInstanceOf(UnsupportedFeatureError);
    await expect(connection.declareQueue({ name: "q", passive: true })).rejects.toBeInstanceOf(
      UnsupportedFeatureError,
    );
    expect(log).toEqual([]);
  });
});

describe("declare: false", () => {
  it("a Consumer and a Publisher declare and bind nothing, and still consume and send", async () => {
    const { log, connection } = loggingBackend(true);
    const consumer = new Consumer(connection, { ...route, declare: false });
    await consumer.declare();
    expect(await consumer.fetch()).toBeNull();
    await new Publisher(connection, { exchange: "x", declare: false }).send("sent");
    expect(log).toEqual([]);
  });
});

describe("passive and declare", () => {
  it("together are refused: one checks what the other leaves alone", () => {
    const { connection } = loggingBackend(true);
    const both = { passive: true, declare: false };
    expect(() => new Consumer(connection, { ...route, ...both })).toThrow(InvalidOptionsError);
    expect(() => new Publisher(connection, both)).toThrow(InvalidOptionsError);
  });

  it("take only true or false", () => {
    const { connection } = loggingBackend(true);
    expect(() => new Consumer(connection, { ...route, passive: "yes" as never })).toThrow(
      new InvalidOptionsError('passive must be true or false, got "yes"'),
    );
    expect(() => new Publisher(connection, { declare: 0 as never })).toThrow(
      new InvalidOptionsError("declare must be true or false, got 0"),
    );
  });
});
