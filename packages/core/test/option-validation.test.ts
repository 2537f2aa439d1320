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
    [
      { queue: "q", prefetchCount: -1 },
      /prefetchCount must be a whole number from 0 to 65535, got -1/,
    ],
    [{ queue: "q", prefetchCount: 1.5 }, /prefetchCount .* got 1.5/],
    [{ queue: "q", prefetchCount: Number.NaN }, /prefetchCount .* got NaN/],
    [{ queue: "q", prefetchCount: 65_536 }, /prefetchCount .* got 65536/],
    [{ queue: "q", prefetchCount: Number.POSITIVE_INFINITY }, /prefetchCount .* got Infinity/],
    [
      { queue: "q", maxDecompressedSize: 0 },
      /maxDecompressedSize must be a whole number of bytes >= 1, got 0/,
    ],
    [{ queue: "q", maxDecompressedSize: 1.5 }, /maxDecompressedSize .* got 1.5/],
    [{ queue: "q", maxDecompressedSize: Number.NaN }, /maxDecompressedSize .* got NaN/],
    [
      { queue: "q", maxDecompressedSize: Number.POSITIVE_INFINITY },
      /maxDecompressedSize .* got Infinity/,
    ],
    [
      { queue: "q", prefetch_count: 10 } as never,
      /unknown option 'prefetch_count' for a Consumer; did you mean 'prefetchCount'\?/,
    ],
    [
      { queue: "q", max_decompressed_size: 10 } as never,
      /unknown option 'max_decompressed_size' for a Consumer; did you mean 'maxDecompressedSize'\?/,
    ],
    [
      { queue: "q", colour: "blue" } as never,
      /unknown option 'colour' for a Consumer; the options are: queue, /,
    ],
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
    [
      { sendTimeout: 0 },
      /sendTimeout must be a whole number of milliseconds from 1 to 2147483647, got 0/,
    ],
    [{ sendTimeout: Number.POSITIVE_INFINITY }, /sendTimeout .* got Infinity/],
    [{ sendTimeout: Number.NaN }, /sendTimeout .* got NaN/],
    [{ sendTimeout: 2 ** 31 }, /sendTimeout .* got 2147483648/],
    [{ maxInFlight: 0 }, /maxInFlight must be a whole number >= 1, got 0/],
    [{ maxInFlight: 1.5 }, /maxInFlight .* got 1.5/],
    [{ maxInFlight: Number.POSITIVE_INFINITY }, /maxInFlight .* got Infinity/],
    [{ deliveryMode: 3 as never }, /deliveryMode must be 1, 2, 'persistent' or 'transient', got 3/],
    [
      { send_timeout: 10 } as never,
      /unknown option 'send_timeout' for a Publisher; did you mean 'sendTimeout'\?/,
    ],
  ])("refuses %j", (options, message) => {
    expect(() => new Publisher(connection, options)).toThrow(InvalidOptionsError);
    expect(() => new Publisher(connection, options)).toThrow(message);
  });

  it.each([
    [{ priority: 256 }, /priority must be a whole number from 0 to 255/],
    [{ priority: -1 }, /priority/],
    [{ expiration: -5 }, /expiration must be a whole number of milliseconds >= 0, got -5/],
    [{ priority: Number.NaN }, /priority .* got NaN/],
    [{ deliveryMode: 0 as never }, /deliveryMode .* got 0/],
    [
      { routing_key: "k" } as never,
      /unknown option 'routing_key' for send\(\); did you mean 'routingKey'\?/,
    ],
    [
      { Signal: AbortSignal.abort() } as never,
      /unknown option 'Signal' for send\(\); did you mean 'signal'\?/,
    ],
  ])("refuses send options %j before connecting", async (options, message) => {
    await expect(new Publisher(connection).send({}, options)).rejects.toThrow(message);
  });

  it("refuses values its codec cannot encode, and unknown serializers", async () => {
    const text = new Publisher(connection, { serializer: "text" });
    // @ts-expect-error text carries strings; the runtime check stays for JavaScript callers.
    await expect(text.send(42)).rejects.toBeInstanceOf(EncodeError);
    await expect(
      new Publisher(connection, { serializer: "pickle" }).send(42),
    ).rejects.toBeInstanceOf(UnknownCodecError);
    await expect(
      new Publisher(connection).send({}, { contentType: "application/x-custom" }),
    ).rejects.toThrow(/pre-encoded data: a Uint8Array or a string/);
  });
});

describe("static defaults of subclasses", () => {
  it("are checked as well, and named as the place of the mistake", () => {
    class OrderConsumer extends Consumer {
      static override defaults = { queue: "orders", prefetch_count: 5 } as never;
    }
    class OrderPublisher extends Publisher {
      static override defaults = { exchange: "orders", max_in_flight: 5 } as never;
    }
    expect(() => new OrderConsumer(connection)).toThrow(
      /unknown option 'prefetch_count' in the static defaults of OrderConsumer; did you mean 'prefetchCount'\?/,
    );
    expect(() => new OrderPublisher(connection)).toThrow(
      /unknown option 'max_in_flight' in the static defaults of OrderPublisher; did you mean 'maxInFlight'\?/,
    );
  });

  it("are range-checked once merged with the options given", () => {
    class SlowConsumer extends Consumer {
      static override defaults = { queue: "slow", prefetchCount: -1 };
    }
    expect(() => new SlowConsumer(connection)).toThrow(/prefetchCount .* got -1/);
    expect(() => new SlowConsumer(connection, { prefetchCount: 1 })).not.toThrow();
  });
});

describe("option names", () => {
  it("a name with odd characters is shown escaped and cut short", () => {
    expect(
      () => new Consumer(connection, { queue: "q", [`a\n${"b".repeat(100)}`]: 1 } as never),
    ).toThrow(/unknown option "a\\nbbbb+" for a Consumer/);
  });

  it("options that are not an object are refused", async () => {
    await expect(new Publisher(connection).send({}, null as never)).rejects.toThrow(
      /the options for send\(\) must be an object, got null/,
    );
  });
});
