import { describe, expect, it } from "vitest";
import { Connection } from "../src/connection.js";
import { Consumer } from "../src/consumer.js";
import type { DeliveryInfo, Headers } from "../src/contract.js";
import { FAILURE_HEADERS } from "../src/failure-record.js";
import { recordingBackend } from "./support/recording-backend.js";

// message.deliveryCount = the failure record's attempts (when the record
// reads) + the broker's count for this copy, or, where the broker keeps
// none, 2 for a redelivery and 1 otherwise. And what a retried copy says
// about where it came from.

const H = FAILURE_HEADERS;
const when = new Date("2026-01-01T00:00:00Z");
const record = (attempts: unknown, more: Headers = {}): Headers => ({
  [H.attempts]: attempts as number,
  [H.firstFailure]: when,
  [H.lastFailure]: when,
  ...more,
});

async function received(headers: Headers, info: Partial<DeliveryInfo> = {}) {
  const backend = recordingBackend();
  backend.deliver("m", { headers, info });
  const consumer = new Consumer(new Connection({ backend }), { queue: "q" });
  return (await consumer.fetch())!;
}

describe("message.deliveryCount", () => {
  it.each<[string, Headers, Partial<DeliveryInfo>, number]>([
    ["a first delivery, no broker count", {}, {}, 1],
    ["a redelivery, no broker count", {}, { redelivered: true }, 2],
    ["the broker's count when it keeps one", {}, { deliveryCount: 4, redelivered: true }, 4],
    ["the broker's count wins over redelivered", {}, { deliveryCount: 1, redelivered: true }, 1],
    ["a copy after 2 failed attempts, first delivered", record(2), {}, 3],
    ["a copy after 2 failed attempts, redelivered", record(2), { redelivered: true }, 4],
    ["a copy after 2 failed attempts, broker count 3", record(2), { deliveryCount: 3 }, 5],
    ["a malformed attempts header (text)", record("2"), {}, 1],
    ["a malformed attempts header (negative)", record(-5), { deliveryCount: 2 }, 2],
    ["a malformed attempts header (fraction)", record(1.5), {}, 1],
    ["attempts without the failure times", { [H.attempts]: 2 }, {}, 1],
  ])("%s", async (_case, headers, info, count) => {
    expect((await received(headers, info)).deliveryCount).toBe(count);
  });
});

describe("a retried copy's deliveryInfo and failure", () => {
  it("reports the exchange and routing key it was first published with", async () => {
    const message = await received(
      record(1, { [H.originalExchange]: "orders", [H.originalRoutingKey]: "order.created" }),
      { exchange: "", routingKey: "q", redelivered: true, deliveryCount: 2 },
    );
    expect(message.deliveryInfo).toEqual({
      exchange: "orders",
      routingKey: "order.created",
      redelivered: true,
      queue: "q",
      deliveryCount: 2,
    });
    expect(message.deliveryInfo).toBe(message.deliveryInfo); // read once
    expect(message.failure).toEqual({
      attempts: 1,
      firstFailure: when,
      lastFailure: when,
      originalExchange: "orders",
      originalRoutingKey: "order.created",
    });
  });

  it("a dead letter reports the dead-letter exchange it came by; its record keeps the first", async () => {
    const message = await received(
      record(3, { [H.originalExchange]: "orders", [H.originalRoutingKey]: "order.created" }),
      { exchange: "dlx", routingKey: "order.created", queue: "dlq" },
    );
    expect(message.deliveryInfo).toMatchObject({ exchange: "dlx", routingKey: "order.created" });
    expect(message.failure?.originalExchange).toBe("orders");
  });

  it("a message without a record reports its delivery as it is, and no failure", async () => {
    const message = await received({ [H.originalExchange]: "forged" });
    expect(message.deliveryInfo).toEqual({
      exchange: "x",
      routingKey: "k",
      redelivered: false,
      queue: "q",
    });
    expect(message.failure).toBeUndefined();
  });
});
