import { describeBackend } from "@carrot/conformance";
import { Connection, type Headers } from "@carrot/core";
import * as vitest from "vitest";

const url = "memory://conformance";

// In-process, "another client" is code that calls the broker without carrot's
// Publisher: the backend's publish, with headers as they come.
const writer = new Connection(url);
vitest.afterAll(() => writer.close());

describeBackend("memory", {
  runner: vitest,
  connect: () => new Connection(url),
  hostile: {
    async write(queue, { body, contentType, contentEncoding, headers = {} }) {
      const backend = await writer.ready();
      await backend.publish({
        exchange: "",
        routingKey: queue,
        mandatory: false,
        message: {
          body,
          contentType,
          contentEncoding,
          headers: headers as Headers,
          properties: {},
        },
      });
    },
  },
});
