import { describe, expect, it } from "vitest";
import { Connection } from "../src/connection.js";
import type { Backend } from "../src/contract.js";
import { ConnectionError, MessageTooLargeError } from "../src/errors.js";
import { Publisher } from "../src/publisher.js";
import { plainCapabilities, quietBackend } from "./support/test-backend.js";

// A backend may learn a capability from the server (NATS announces its
// payload limit when a client connects): the contract says core reads
// capabilities only after connect() and at each use, so what connect()
// settles is what core enforces.

const BEFORE_CONNECT = plainCapabilities(1);

/** A backend whose server announces `serverLimit` bytes when it connects. */
function announcingBackend(serverLimit: number) {
  const sent: number[] = [];
  let capabilities = BEFORE_CONNECT;
  const backend: Backend = {
    ...quietBackend("announcing", BEFORE_CONNECT),
    get capabilities() {
      return capabilities;
    },
    connect: async () => {
      capabilities = { ...BEFORE_CONNECT, maxMessageSize: serverLimit };
    },
    publish: async (request) => {
      sent.push(request.message.body.byteLength);
    },
  };
  return { backend, sent };
}

describe("capabilities settled at connect", () => {
  it("are not read before connect", () => {
    const { backend } = announcingBackend(100);
    const connection = new Connection({ backend });
    expect(() => connection.capabilities).toThrow(ConnectionError);
  });

  it("are what connect() settled, for sends made before and after it", async () => {
    const { backend, sent } = announcingBackend(100);
    const connection = new Connection({ backend });
    const publisher = new Publisher(connection, { routingKey: "q", serializer: "binary" });
    // Sent before the connection is up: checked against the announced limit, not the placeholder.
    await publisher.send(new Uint8Array(100));
    expect(connection.capabilities.maxMessageSize).toBe(100);
    await expect(publisher.send(new Uint8Array(101))).rejects.toBeInstanceOf(MessageTooLargeError);
    expect(sent).toEqual([100]);
    await connection.close();
  });
});
