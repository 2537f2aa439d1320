/**
 * SQS: carrot beside the bare @aws-sdk/client-sqs, against the same fauxqs
 * emulator in the same run (or CARROT_SQS_ENDPOINT):
 * - send: N 256-byte JSON messages, 1000 in flight (carrot: 1000 senders, each
 *   awaiting Publisher.send in turn, coalesced into batches by the backend;
 *   raw: 100 hand-written SendMessageBatch requests of 10 in flight). Raw sends
 *   the same SQS message as carrot, body and `carrot` attribute (taken from a
 *   message carrot sent), as the Redis bench's raw side writes carrot's
 *   envelope; a third side, raw without the attribute, shows what carrying
 *   content type, headers and properties costs the SDK and the emulator;
 * - receive+delete: drain N messages with 4 long-polling receivers of 10
 *   (carrot: Consumer with prefetch 1000 and ack; raw: 4 ReceiveMessage loops
 *   whose DeleteMessageBatch go out without waiting, as carrot's do).
 * Run alone: npx -y pnpm@10.34.9 bench sqs
 */
import { randomBytes } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { sqsBackend } from "@carrot/backend-sqs";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { compareSides, type Figures, medianRates, ratio } from "../../../bench/compare.js";
import { payloadOfSize } from "../../../bench/payload.js";
import startFauxqs from "../test/fauxqs-setup.js";

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const IN_FLIGHT = 1000;
const RECEIVERS = 4;

function payload(n: number): { id: number; data: string } {
  return payloadOfSize(256, n);
}

async function withEmulator<T>(run: (endpoint: string) => Promise<T>): Promise<T> {
  const stop = await startFauxqs(); // no-op when CARROT_SQS_ENDPOINT is set
  try {
    return await run(process.env.CARROT_SQS_ENDPOINT as string);
  } finally {
    await stop();
  }
}

function raw(endpoint: string): SQSClient {
  // cacheMiddleware as carrot's send client has it: the SDK resolves its middleware once.
  return new SQSClient({ endpoint, region: "us-east-1", cacheMiddleware: true });
}

function carrot(endpoint: string, prefix: string): Connection {
  return new Connection({
    url: `sqs://?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}&prefix=${prefix}&waitTimeSeconds=1`,
    backend: sqsBackend,
  });
}

async function rawQueue(client: SQSClient, name: string): Promise<string> {
  return (await client.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
}

type Attributes = Record<string, MessageAttributeValue>;

/** Fills a queue with the raw client, 100 batches in flight, each message with `attributes` if given. */
async function rawFill(
  client: SQSClient,
  url: string,
  count: number,
  attributes?: Attributes,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const start = next;
      next = Math.min(count, next + 10);
      const Entries = [];
      for (let i = start; i < next; i++)
        Entries.push({
          Id: String(i - start),
          MessageBody: JSON.stringify(payload(i)),
          MessageAttributes: attributes,
        });
      const { Failed = [] } = await client.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries }),
      );
      if (Failed.length > 0) throw new Error(`raw send failed: ${Failed[0]?.Code}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT / 10 }, worker));
}

/** The attributes of a message carrot's send scenario sends, as SQS stored them. */
async function carrotAttributes(endpoint: string): Promise<Attributes> {
  const prefix = `b${randomBytes(4).toString("hex")}-`;
  const conn = carrot(endpoint, prefix);
  await new Consumer(conn, { queue: "send" }).declare();
  await new Publisher(conn, { routingKey: "send" }).send(payload(0));
  const client = raw(endpoint);
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: await rawQueue(client, `${prefix}send`), // the queue carrot made
      MessageAttributeNames: ["All"],
      WaitTimeSeconds: 1,
    }),
  );
  client.destroy();
  await conn.deleteQueue("send");
  await conn.close();
  const attributes: Attributes = {};
  for (const [name, { DataType, StringValue }] of Object.entries(
    Messages[0]?.MessageAttributes ?? {},
  ))
    attributes[name] = { DataType, StringValue };
  if (!attributes.carrot) throw new Error("carrot's message came back without its attribute");
  return attributes;
}

async function carrotSend(endpoint: string): Promise<number> {
  const prefix = `b${randomBytes(4).toString("hex")}-`;
  const conn = carrot(endpoint, prefix);
  await new Consumer(conn, { queue: "send" }).declare();
  const publisher = new Publisher(conn, { routingKey: "send", maxInFlight: IN_FLIGHT });
  const started = performance.now();
  // IN_FLIGHT senders, each sending its next message when the last is sent (as raw's batches).
  let next = 0;
  const sender = async () => {
    while (next < COUNT) await publisher.send(payload(next++));
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  const ms = performance.now() - started;
  await conn.deleteQueue("send");
  await conn.close();
  return ms;
}

async function rawSend(endpoint: string, attributes?: Attributes): Promise<number> {
  const client = raw(endpoint);
  const url = await rawQueue(client, `b${randomBytes(4).toString("hex")}-send`);
  const started = performance.now();
  await rawFill(client, url, COUNT, attributes);
  const ms = performance.now() - started;
  await client.send(new DeleteQueueCommand({ QueueUrl: url }));
  client.destroy();
  return ms;
}

async function carrotReceive(endpoint: string): Promise<number> {
  const prefix = `b${randomBytes(4).toString("hex")}-`;
  const conn = carrot(endpoint, prefix);
  const consumer = new Consumer(conn, { queue: "recv", prefetchCount: IN_FLIGHT });
  await consumer.declare();
  const client = raw(endpoint);
  await rawFill(client, await rawQueue(client, `${prefix}recv`), COUNT);
  client.destroy();
  let received = 0;
  consumer.registerCallback(async (_data, message) => {
    received++;
    await message.ack();
  });
  const started = performance.now();
  await consumer.wait({ limit: COUNT });
  const ms = performance.now() - started;
  if (received !== COUNT) throw new Error(`carrot received ${received} of ${COUNT}`);
  await conn.deleteQueue("recv");
  await conn.close();
  return ms;
}

async function rawReceive(endpoint: string): Promise<number> {
  const client = raw(endpoint);
  const url = await rawQueue(client, `b${randomBytes(4).toString("hex")}-recv`);
  await rawFill(client, url, COUNT);
  let received = 0;
  const deletes: Promise<unknown>[] = [];
  const started = performance.now();
  const receiver = async () => {
    while (received < COUNT) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      for (const m of Messages) JSON.parse(m.Body as string);
      received += Messages.length;
      if (Messages.length > 0) {
        deletes.push(
          client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          ),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: RECEIVERS }, receiver));
  await Promise.all(deletes);
  const ms = performance.now() - started;
  await client.send(new DeleteQueueCommand({ QueueUrl: url }));
  client.destroy();
  return ms;
}

function compare(
  ours: (endpoint: string) => Promise<number>,
  theirs: (endpoint: string) => Promise<number>,
): Promise<Figures> {
  return withEmulator((endpoint) =>
    compareSides(COUNT, (side) => (side === "raw" ? theirs(endpoint) : ours(endpoint))),
  );
}

const scenarios: Record<string, () => Promise<Figures>> = {
  "sqs send (carrot vs raw SendMessageBatch of the same messages)": () =>
    withEmulator(async (endpoint) => {
      const attributes = await carrotAttributes(endpoint);
      const rates = await medianRates(COUNT, ["raw", "carrot", "rawWithoutAttribute"], (side) =>
        side === "carrot"
          ? carrotSend(endpoint)
          : rawSend(endpoint, side === "raw" ? attributes : undefined),
      );
      return {
        rawMsgsPerSec: rates.raw,
        carrotMsgsPerSec: rates.carrot,
        ratio: ratio(rates.carrot, rates.raw),
        rawWithoutAttributeMsgsPerSec: rates.rawWithoutAttribute,
        ratioToRawWithoutAttribute: ratio(rates.carrot, rates.rawWithoutAttribute),
      };
    }),
  "sqs receive+delete (carrot vs raw)": () => compare(carrotReceive, rawReceive),
};

// The emulator takes any credentials; the SDK's provider chain reads these.
process.env.AWS_ACCESS_KEY_ID ??= "bench";
process.env.AWS_SECRET_ACCESS_KEY ??= "bench";

export default scenarios;
