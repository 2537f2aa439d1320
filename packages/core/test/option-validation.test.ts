import { describe, expect, it } from "vitest";
import { Connection } from "../src/connection.js";
import { Consumer } from "../src/consumer.js";
import { EncodeError, InvalidOptionsError, UnknownCodecError } from "../src/errors.js";
import { Publisher } from "../src/publisher.js";

// Bad options fail at once, with InvalidOptionsError naming the option, before
// anything reaches a broker (these tests never connect).
const connection = new Connection({ url: "memory://never-connected" });

describe("Consumer options", () => {
  it.each([
    [{}, /needs a queue name/],
    [{ queue: "" }, /needs a queue name/],
    [{ queue: "q", prefetchCount: -1 }, /prefetchCount must be a whole number >= 0/],
    [{ queue: "q", prefetchCount: 1.5 }, /prefetchCount/],
    [
      { queue: "q", exchangeType: "x-delayed" as never },
      /exchange type 'x-delayed' is not one of direct, fanout, topic, headers/,
    ],
  ])("refuses %j", (options, message) => {
    expect(() => new Consumer(connection, options)).toThrow(InvalidOptionsError);
    expect(() => new Consumer(connection, options)).toThrow(message);
  });

  it("refuses an accept list naming an unknown codec", () => {
    expect(() => new Consumer(connection, { queue: "q", accept: ["pickle"] })).toThrow(
      UnknownCodecError,
    );
  });

  it("refuses to wait without a callback, or with a bad limit", async () => {
    const consumer = new Consumer(connection, { queue: "q" });
    await expect(consumer.wait()).rejects.toThrow(/no callback to consume with/);
    consumer.registerCallback(() => undefined);
    await expect(consumer.wait({ limit: 0 })).rejects.toThrow(/limit must be a whole number > 0/);
  });
});

describe("Publisher options", () => {
  it.each([
    [{ exchangeType: "nope" as never }, /exchange type 'nope'/],
    [{ sendTimeout: 0 }, /sendTimeout must be > 0 ms/],
    [{ maxInFlight: 0 }, /maxInFlight must be a whole number > 0/],
  ])("refuses %j", (options, message) => {
    expect(() => new Publisher(connection, options)).toThrow(InvalidOptionsError);
    expect(() => new Publisher(connection, options)).toThrow(message);
  });

  it.each([
    [{ priority: 256 }, /priority must be a whole number from 0 to 255/],
    [{ priority: -1 }, /priority/],
    [{ expiration: -5 }, /expiration must be whole milliseconds >= 0/],
  ])("refuses send options %j before connecting", async (options, message) => {
    await expect(new Publisher(connection).send({}, options)).rejects.toThrow(message);
  });

  it("refuses values its codec cannot encode, and unknown serializers", async () => {
    await expect(new Publisher(connection, { serializer: "text" }).send(42)).rejects.toBeInstanceOf(
      EncodeError,
    );
    await expect(
      new Publisher(connection, { serializer: "pickle" }).send(42),
    ).rejects.toBeInstanceOf(UnknownCodecError);
    await expect(
      new Publisher(connection).send({}, { contentType: "application/x-custom" }),
    ).rejects.toThrow(/pre-encoded data: a Uint8Array or a string/);
  });
});
