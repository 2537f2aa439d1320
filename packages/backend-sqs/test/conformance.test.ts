import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteQueues, sqsEndpoint, sqsUrl, uniquePrefix } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

// The suite publishes right after binding on another connection: a short
// binding refresh keeps its cases within the stated consistency window.
// Short long polls and leases let its at-least-once cases finish within its waits.
const settings = { waitTimeSeconds: 1, bindingRefresh: 100, visibilityTimeout: 5 };
const target = new URL(sqsEndpoint());

describeBackend("sqs", {
  connect: () => new Connection(sqsUrl(prefix, settings)),
  runner: { describe, it, expect, beforeAll, afterAll },
  faults: {
    target: { host: target.hostname, port: Number(target.port) },
    connectThrough: (port, overrides) => {
      const url = new URL(sqsUrl(prefix, settings));
      url.searchParams.set("endpoint", `http://127.0.0.1:${port}`);
      return new Connection({
        url: url.href,
        reconnect: { initialDelay: 50, maxDelay: 500 },
        // SQS is HTTP: an idle connection learns of a cut only by a request; probe every second.
        heartbeat: 1,
        ...overrides,
      });
    },
  },
});
