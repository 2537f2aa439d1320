import { GetQueueUrlCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqsQueueName } from "../src/queue-names.js";
import { deleteQueues, rawClient, sqsEndpoint, sqsUrl, uniquePrefix } from "./sqs-test-env.js";

const prefix = uniquePrefix();
afterAll(() => deleteQueues(prefix));

// Another SQS client, sending straight to the queue with carrot's attribute
// holding whatever it likes.
const raw = rawClient();
afterAll(() => raw.destroy());
async function send(queue: string, body: string, attribute: string): Promise<void> {
  const { QueueUrl } = await raw.send(
    new GetQueueUrlCommand({ QueueName: sqsQueueName(queue, prefix) }),
  );
  await raw.send(
    new SendMessageCommand({
      QueueUrl,
      MessageBody: body,
      MessageAttributes: { carrot: { DataType: "String", StringValue: attribute } },
    }),
  );
}

/** What SQS takes as text; the rest goes as \u escapes (attribute) or base64 (body). */
const NOT_SQS_TEXT = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/g;

/** A body as SQS carries it: text when it is, base64 otherwise, "-" when empty (as carrot writes). */
function sqsBody(body: Uint8Array): { text: string; b?: "base64" | "empty" } {
  if (body.byteLength === 0) return { text: "-", b: "empty" };
  const text = Buffer.from(body).toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(body) && text.search(NOT_SQS_TEXT) < 0;
  return isText ? { text } : { text: Buffer.from(body).toString("base64"), b: "base64" };
}

// The suite publishes right after binding on another connection: a short
// binding refresh keeps its cases within the stated consistency window.
// Short long polls and leases let its at-least-once cases finish within its waits.
const settings = { waitTimeSeconds: 1, bindingRefresh: 100, visibilityTimeout: 5 };
const target = new URL(sqsEndpoint());

// The lease cases hold messages past a visibility timeout this short: renewals must keep them.
const shortLeases = { ...settings, visibilityTimeout: 1 };

describeBackend("sqs", {
  connect: () => new Connection(sqsUrl(prefix, settings)),
  runner: { describe, it, expect, beforeAll, afterAll },
  // A consumer process killed holding messages (count-crash): they come back after visibilityTimeout.
  processes: {
    url: sqsUrl(prefix, settings),
    execArgv: ["--import", "tsx", "--conditions=@carrot/source"],
  },
  // SQS delays by whole seconds, rounded up (a second late at most), and a
  // long poll picks a message up as it becomes visible: the suite's default
  // 3 s, stated here because the README promises it.
  delayToleranceMs: 3_000,
  leases: {
    connect: () => new Connection(sqsUrl(prefix, shortLeases)),
    leaseMs: shortLeases.visibilityTimeout * 1000,
  },
  // FIFO queues keep message groups (one in flight per group, deduplication).
  messageGroups: { queueName: (name) => `${name}.fifo` },
  hostile: {
    write(queue, { body, contentType, contentEncoding, headers }) {
      const { text, b } = sqsBody(body);
      const envelope = JSON.stringify({ ct: contentType, ce: contentEncoding, h: headers, b });
      const escaped = envelope.replace(
        NOT_SQS_TEXT,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      );
      return send(queue, text, escaped);
    },
    writeEnvelope: (queue, envelope, body) => send(queue, sqsBody(body).text, envelope),
  },
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
