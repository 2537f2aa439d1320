import { afterEach, describe, expect, it } from "vitest";
import { Connection } from "../src/connection.js";
import type { Backend } from "../src/contract.js";
import { InvalidOptionsError, UnsupportedFeatureError } from "../src/errors.js";
import { Publisher } from "../src/publisher.js";
import { policyCapabilities, recordingBackend } from "./support/recording-backend.js";

// send(data, { delay }): whole milliseconds from 0 (none), handed to the
// backend as PublishRequest.delay; refused on a backend without delays, and
// with mandatory or an expiration.

const open: Connection[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((connection) => connection.close()));
});

function publisherOn(backend: Backend, options: { mandatory?: boolean } = {}) {
  const connection = new Connection({ backend });
  open.push(connection);
  return new Publisher(connection, { routingKey: "q", maxInFlight: 1, ...options });
}

describe("send(data, { delay })", () => {
  it("hands the delay to the backend, not mandatory", async () => {
    const backend = recordingBackend();
    await publisherOn(backend).send("later", { delay: 250 });
    expect(backend.published[0]).toMatchObject({ routingKey: "q", delay: 250, mandatory: false });
  });

  it("0 is no delay: the request has none, and may be mandatory", async () => {
    const backend = recordingBackend();
    await publisherOn(backend, { mandatory: true }).send("now", { delay: 0 });
    expect("delay" in backend.published[0]!).toBe(false);
    expect(backend.published[0]!.mandatory).toBe(true);
  });

  it.each([
    [-1, /delay must be a whole number of milliseconds from 0 to 2147483647, got -1/],
    [1.5, /delay .* got 1.5/],
    [Number.NaN, /delay .* got NaN/],
    [Number.POSITIVE_INFINITY, /delay .* got Infinity/],
    [2 ** 31, /delay .* got 2147483648/],
    ["5" as never, /delay .* got "5" \(a string\)/],
  ])("refuses a delay of %s, sending nothing", async (delay, message) => {
    const backend = recordingBackend();
    const publisher = publisherOn(backend);
    const sent = publisher.send("x", { delay });
    await expect(sent).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(publisher.send("x", { delay })).rejects.toThrow(message);
    expect(backend.published).toEqual([]);
  });

  it("refuses a delay with mandatory, given to the send or the publisher", async () => {
    const backend = recordingBackend();
    const because =
      /a delayed message cannot be mandatory: whether a queue takes it is only known when it is due/;
    await expect(publisherOn(backend).send("x", { delay: 10, mandatory: true })).rejects.toThrow(
      because,
    );
    await expect(
      publisherOn(backend, { mandatory: true }).send("x", { delay: 10 }),
    ).rejects.toThrow(InvalidOptionsError);
    await publisherOn(backend, { mandatory: true }).send("x", { delay: 10, mandatory: false });
    expect(backend.published).toHaveLength(1);
  });

  it("refuses a delay with an expiration (RabbitMQ's delay would end it), sending nothing", async () => {
    const backend = recordingBackend(policyCapabilities({ messageTtl: true }));
    await expect(publisherOn(backend).send("x", { delay: 10, expiration: 60_000 })).rejects.toThrow(
      /a delayed message cannot carry an expiration: on RabbitMQ the delay itself ends it/,
    );
    await publisherOn(backend).send("x", { delay: 0, expiration: 60_000 });
    expect(backend.published).toHaveLength(1);
  });

  it("is refused on a backend without delayed delivery, and the slot is free again", async () => {
    const backend = recordingBackend(policyCapabilities({ delayedDelivery: undefined }));
    const publisher = publisherOn(backend);
    await expect(publisher.send("x", { delay: 10 })).rejects.toThrow(UnsupportedFeatureError);
    await expect(publisher.send("x", { delay: 10 })).rejects.toThrow(
      /the recording backend does not support delayed delivery \(a delay of 10 ms\)/,
    );
    await publisher.send("y"); // with maxInFlight 1: the refused sends gave their slot back
    expect(backend.published.map((r) => r.message.body.toString())).toEqual(['"y"']);
  });
});
