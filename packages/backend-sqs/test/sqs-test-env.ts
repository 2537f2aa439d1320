import { randomBytes } from "node:crypto";
import { DeleteQueueCommand, ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { deferred, withTimeout } from "@carrot/conformance";

/** The SQS the global setup started (fauxqs) or CARROT_SQS_ENDPOINT named. */
export function sqsEndpoint(): string {
  const endpoint = process.env.CARROT_SQS_ENDPOINT;
  if (!endpoint)
    throw new Error(
      "CARROT_SQS_ENDPOINT is not set: run these tests through vitest, whose global setup starts fauxqs",
    );
  return endpoint;
}

/** A queue-name prefix of its own, so that a test sees (and scans) only its own queues. */
export function uniquePrefix(): string {
  return `t${randomBytes(5).toString("hex")}-`;
}

export function unique(name: string): string {
  return `${name}-${randomBytes(4).toString("hex")}`;
}

export function sqsUrl(prefix: string, params: Record<string, string | number> = {}): string {
  const query = new URLSearchParams({
    endpoint: sqsEndpoint(),
    region: "us-east-1",
    prefix,
    ...stringify(params),
  });
  return `sqs://?${query}`;
}

export function rawClient(): SQSClient {
  return new SQSClient({ endpoint: sqsEndpoint(), region: "us-east-1" });
}

/** Deletes every queue under the prefix. */
export async function deleteQueues(prefix: string): Promise<void> {
  const client = rawClient();
  try {
    const { QueueUrls = [] } = await client.send(
      new ListQueuesCommand({ QueueNamePrefix: prefix }),
    );
    await Promise.all(
      QueueUrls.map((QueueUrl) => client.send(new DeleteQueueCommand({ QueueUrl }))),
    );
  } finally {
    client.destroy();
  }
}

/**
 * A promise the test resolves when what it waits for has happened, failing
 * after `ms` with a message naming `what`.
 */
export function waitFor<T>(
  what: string,
  ms = 15_000,
): { promise: Promise<T>; resolve: (value: T) => void } {
  const happened = deferred<T>();
  return { promise: withTimeout(happened.promise, ms, what), resolve: happened.resolve };
}

function stringify(params: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
}

/** A connected Connection on the SQS backend, and the backend itself. */
export async function connectSqs(prefix: string, params: Record<string, string | number> = {}) {
  const { Connection } = await import("@carrot/core");
  const { sqsBackend, SqsBackend } = await import("../src/index.js");
  const conn = new Connection({ url: sqsUrl(prefix, params), backend: sqsBackend });
  await conn.connect();
  const backend = conn.backend;
  if (!(backend instanceof SqsBackend)) throw new Error("not the SQS backend");
  return { conn, backend };
}

/** Counts the SQS API calls made through these clients, by command name. */
export function countCommands(...clients: SQSClient[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const client of clients)
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? "unknown";
        counts[name] = (counts[name] ?? 0) + 1;
        return next(args);
      },
      { step: "initialize", name: "carrotTestCommandCounter" },
    );
  return counts;
}
