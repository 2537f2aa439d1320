import { describe, expect, it } from "vitest";
import { decodeEntry, encodeEnvelope } from "../src/message-codec.js";

describe("entries read back", () => {
  it("do not share headers or properties, though their envelopes are parsed once", () => {
    const envelope = encodeEnvelope("ex", "key", {
      body: new Uint8Array(0),
      contentType: "application/json",
      headers: { tenant: "a" },
      properties: { deliveryMode: 2 },
    });
    const fields = () => [
      Buffer.from("b"),
      Buffer.from("{}"),
      Buffer.from("m"),
      Buffer.from(envelope),
    ];
    const first = decodeEntry("1-0", fields());
    first.message.headers.tenant = "changed";
    first.message.properties.priority = 9;
    const second = decodeEntry("2-0", fields());
    expect(second.message.headers).toEqual({ tenant: "a" });
    expect(second.message.properties).toEqual({ deliveryMode: 2 });
    expect([second.exchange, second.routingKey, second.message.contentType]).toEqual([
      "ex",
      "key",
      "application/json",
    ]);
  });
});
