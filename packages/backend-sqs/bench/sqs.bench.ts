/**
 * SQS: carrot beside the bare @aws-sdk/client-sqs written as a skilled user
 * would, and beside sqs-producer, against the same fauxqs emulator in the
 * same run (or CARROT_SQS_ENDPOINT):
 * - send: N 256-byte JSON messages, 1000 in flight (carrot: 1000 senders,
 *   each awaiting Publisher.send in turn, coalesced into batches by the
 *   backend; raw: 100 SendMessageBatch requests of 10 in flight, sqs-producer
 *   likewise). Raw sends the same SQS message as carrot, body and `carrot`
 *   attribute (taken from a message carrot sent), with carrot's client
 *   settings: the SDK's MD5 check off (`md5: false`) and its own check of
 *   each entry's MD5 instead, no SDK retries, `cacheMiddleware` as carrot's
 *   send client has it. Raw without the attribute (different work) shows
 *   what carrying content type, headers and properties costs.
 * - receive+delete: drain N messages, filled by carrot for every side, with 4
 *   long-polling receivers of 10 (carrot: Consumer with prefetch 1000 and ack;
 *   raw: 4 ReceiveMessage loops asking for the same message attributes,
 *   receive count and group, checking each body's MD5, whose
 *   DeleteMessageBatch go out without waiting, as carrot's do). carrot also
 *   asks for SentTimestamp and ApproximateFirstReceiveTimestamp, which its
 *   delayed delivery reads (about 2 µs more of SDK parsing per message).
 *   The raw client is set up as carrot's receive client is (`cacheMiddleware`
 *   read from it at run time).
 *
 * - peers: sqs-producer on send; on receive sqs-consumer (4 consumers of
 *   batches of 10, as its README sets one up, asking for the same
 *   attributes), which deletes each batch before its next receive. Both on
 *   an SDK client with the SDK's defaults. sqs-consumer needs Node >= 22:
 *   `pnpm bench` runs on the project's `node24` binary.
 *
 *   npx -y pnpm@10.34.9 bench sqs
 */
import { hash, randomBytes } from "node:crypto";
import { Agent } from "node:http";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import { type SqsBackend, sqsBackend } from "@carrot/backend-sqs";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { Consumer as SqsConsumer } from "sqs-consumer";
import { Producer } from "sqs-producer";
import {
  compareRates,
  type Sample,
  type Scenario,
  sides,
  startClock,
  watchBroker,
} from "../../../bench/compare.js";
import { payloadOfSize, sendInWindows } from "../../../bench/payload.js";
import startFauxqs from "../test/fauxqs-setup.js";

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const IN_FLIGHT = 1000;
const RECEIVERS = 4;
/** carrot's URL below sets waitTimeSeconds=1; its default visibility timeout is 30 s. */
const WAIT_TIME_SECONDS = 1;
const VISIBILITY_TIMEOUT = 30;

function payload(n: number): { id: number; data: string } {
  return payloadOfSize(256, n);
}

async function withEmulator<T>(run: (endpoint: string) => Promise<T>): Promise<T> {
  const stop = await startFauxqs(); // no-op when CARROT_SQS_ENDPOINT is set
  const endpoint = process.env.CARROT_SQS_ENDPOINT as string;
  watchBroker(endpoint, 80);
  try {
    return await run(endpoint);
  } finally {
    await stop();
  }
}

function carrot(endpoint: string, prefix: string): Connection {
  return new Connection({
    url: `sqs://?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}&prefix=${prefix}&waitTimeSeconds=${WAIT_TIME_SECONDS}`,
    backend: sqsBackend,
  });
}

const newPrefix = () => `b${randomBytes(4).toString("hex")}-`;

/** What carrot's two SDK clients are given, read from them: the raw clients get the same. */
interface CarrotClients {
  receive: SQSClientConfig;
  send: SQSClientConfig;
}

async function carrotClients(endpoint: string): Promise<CarrotClients> {
  const connection = carrot(endpoint, newPrefix());
  await connection.connect();
  const backend = connection.backend as unknown as SqsBackend;
  const cached = (client: SQSClient | undefined) => client?.config.cacheMiddleware === true;
  const receive = cached(backend.client);
  const send = cached((backend as { sendClient?: SQSClient }).sendClient ?? backend.client);
  await connection.close();
  // As carrot sets them (sqs-backend.ts): its own MD5 checks, keep-alive agents of 50
  // sockets, a request timeout of the long poll plus a grace; sends never retried.
  const base = (): SQSClientConfig => ({
    endpoint,
    region: "us-east-1",
    md5: false,
    requestHandler: {
      httpAgent: new Agent({ keepAlive: true, maxSockets: 50 }),
      requestTimeout: (WAIT_TIME_SECONDS + 10) * 1000,
      throwOnRequestTimeout: true,
    },
  });
  return {
    receive: { ...base(), ...(receive ? { cacheMiddleware: true } : {}) },
    send: { ...base(), ...(send ? { cacheMiddleware: true } : {}), maxAttempts: 1 },
  };
}

async function queueUrl(client: SQSClient, name: string): Promise<string> {
  return (await client.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
}

async function deleteQueue(endpoint: string, url: string): Promise<void> {
  const client = new SQSClient({ endpoint, region: "us-east-1" });
  await client.send(new DeleteQueueCommand({ QueueUrl: url }));
  client.destroy();
}

type Attributes = Record<string, MessageAttributeValue>;

/** The attributes of a message carrot's send scenario sends, as SQS stored them. */
async function carrotAttributes(endpoint: string): Promise<Attributes> {
  const prefix = newPrefix();
  const conn = carrot(endpoint, prefix);
  await new Consumer(conn, { queue: "send" }).declare();
  await new Publisher(conn, { routingKey: "send" }).send(payload(0));
  const client = new SQSClient({ endpoint, region: "us-east-1" });
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: await queueUrl(client, `${prefix}send`), // the queue carrot made
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

/**
 * Raw: 100 workers, each sending its next SendMessageBatch of 10 when the
 * last is answered, checking every entry: failed, or stored with another MD5
 * than its body's.
 */
async function rawSend(
  endpoint: string,
  config: SQSClientConfig,
  attributes?: Attributes,
): Promise<Sample> {
  const client = new SQSClient(config);
  const url = await queueUrl(client, `${newPrefix()}send`);
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const start = next;
      next = Math.min(COUNT, next + 10);
      const bodies: string[] = [];
      const Entries = [];
      for (let n = start; n < next; n++) {
        const body = JSON.stringify(payload(n));
        bodies.push(body);
        Entries.push({ Id: String(n - start), MessageBody: body, MessageAttributes: attributes });
      }
      const { Successful = [], Failed = [] } = await client.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries }),
      );
      if (Failed.length > 0) throw new Error(`raw send failed: ${Failed[0]?.Code}`);
      for (const { Id, MD5OfMessageBody } of Successful) {
        if (MD5OfMessageBody !== hash("md5", bodies[Number(Id)]!))
          throw new Error(`message ${Id} stored with another body`);
      }
    }
  };
  const stop = startClock();
  await Promise.all(Array.from({ length: IN_FLIGHT / 10 }, worker));
  const sample = stop();
  client.destroy();
  await deleteQueue(endpoint, url);
  return sample;
}

/** sqs-producer as its README shows it, on an SDK client with the SDK's defaults; 100 sends of 10 in flight. */
async function producerSend(endpoint: string, attributes: Attributes): Promise<Sample> {
  const client = new SQSClient({ endpoint, region: "us-east-1" });
  const url = await queueUrl(client, `${newPrefix()}send`);
  const producer = Producer.create({ queueUrl: url, sqs: client });
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const start = next;
      next = Math.min(COUNT, next + 10);
      const messages = [];
      for (let n = start; n < next; n++) {
        messages.push({
          id: String(n),
          body: JSON.stringify(payload(n)),
          messageAttributes: attributes,
        });
      }
      await producer.send(messages);
    }
  };
  const stop = startClock();
  await Promise.all(Array.from({ length: IN_FLIGHT / 10 }, worker));
  const sample = stop();
  client.destroy();
  await deleteQueue(endpoint, url);
  return sample;
}

async function carrotSend(endpoint: string): Promise<Sample> {
  const conn = carrot(endpoint, newPrefix());
  await new Consumer(conn, { queue: "send" }).declare();
  const publisher = new Publisher(conn, { routingKey: "send", maxInFlight: IN_FLIGHT });
  // Ready before the clock, as raw's side is: the queue's URL and the bindings looked up.
  await publisher.send(payload(0));
  // IN_FLIGHT senders, each sending its next message when the last is sent (as raw's batches).
  let next = 0;
  const sender = async () => {
    while (next < COUNT) await publisher.send(payload(next++));
  };
  const stop = startClock();
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  const sample = stop();
  await conn.deleteQueue("send");
  await conn.close();
  return sample;
}

/** A queue filled with COUNT messages sent by carrot (not timed); its name with `prefix`. */
async function carrotFill(endpoint: string, prefix: string): Promise<void> {
  const conn = carrot(endpoint, prefix);
  await new Consumer(conn, { queue: "recv" }).declare();
  const publisher = new Publisher(conn, { routingKey: "recv", maxInFlight: IN_FLIGHT });
  await sendInWindows(COUNT, IN_FLIGHT, (n) => publisher.send(payload(n)));
  await conn.close();
}

async function carrotReceive(endpoint: string): Promise<Sample> {
  const prefix = newPrefix();
  await carrotFill(endpoint, prefix);
  const conn = carrot(endpoint, prefix);
  const consumer = new Consumer(conn, { queue: "recv", prefetchCount: IN_FLIGHT });
  await consumer.declare();
  let received = 0;
  consumer.registerCallback(async (_data, message) => {
    received++;
    await message.ack();
  });
  const stop = startClock();
  await consumer.wait({ limit: COUNT });
  const sample = stop();
  if (received !== COUNT) throw new Error(`carrot received ${received} of ${COUNT}`);
  await conn.deleteQueue("recv");
  await conn.close();
  return sample;
}

async function rawReceive(endpoint: string, config: SQSClientConfig): Promise<Sample> {
  const prefix = newPrefix();
  await carrotFill(endpoint, prefix);
  const client = new SQSClient(config);
  const url = await queueUrl(client, `${prefix}recv`);
  let received = 0;
  let check = 0;
  const deletes: Promise<unknown>[] = [];
  const intact = (m: Message) => m.MD5OfBody === hash("md5", m.Body ?? "");
  let done!: () => void;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const receiver = async () => {
    while (received < COUNT) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: WAIT_TIME_SECONDS,
          VisibilityTimeout: VISIBILITY_TIMEOUT,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "MessageGroupId"],
        }),
      );
      if (Messages.length === 0) continue;
      for (const m of Messages) {
        if (!intact(m)) throw new Error("a body arrived changed");
        check += (JSON.parse(m.Body as string) as { id: number }).id & 1;
      }
      received += Messages.length;
      if (received >= COUNT) done();
      deletes.push(
        client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        ),
      );
    }
  };
  const stop = startClock();
  const receivers = Promise.all(Array.from({ length: RECEIVERS }, receiver));
  // Done at the last message, as carrot's wait({ limit }) is: not when the
  // other receivers' long polls of the empty queue come back (a whole wait time).
  await all;
  await Promise.all(deletes);
  const sample = stop();
  await receivers;
  client.destroy();
  await deleteQueue(endpoint, url);
  if (check < 0) throw new Error("unreachable");
  return sample;
}

/**
 * sqs-consumer as its README shows it: RECEIVERS consumers of batches of 10
 * asking for the attributes carrot reads, each batch's messages parsed and
 * the batch returned (acknowledged: deleted before the consumer's next receive).
 */
async function sqsConsumerReceive(endpoint: string): Promise<Sample> {
  const prefix = newPrefix();
  await carrotFill(endpoint, prefix);
  const client = new SQSClient({ endpoint, region: "us-east-1" });
  const url = await queueUrl(client, `${prefix}recv`);
  let received = 0;
  let check = 0;
  let done!: () => void;
  let failed!: (error: Error) => void;
  const all = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  const consumers = Array.from({ length: RECEIVERS }, () =>
    SqsConsumer.create({
      queueUrl: url,
      sqs: client,
      batchSize: 10,
      waitTimeSeconds: WAIT_TIME_SECONDS,
      visibilityTimeout: VISIBILITY_TIMEOUT,
      messageAttributeNames: ["All"],
      messageSystemAttributeNames: ["ApproximateReceiveCount", "MessageGroupId"],
      handleMessageBatch: async (messages) => {
        for (const m of messages) check += (JSON.parse(m.Body as string) as { id: number }).id & 1;
        return messages;
      },
    }),
  );
  for (const consumer of consumers) {
    // Fired once a message is deleted: done when the last one is, as carrot's wait({ limit }) is at its last ack.
    consumer.on("message_processed", () => {
      if (++received === COUNT) done();
    });
    consumer.on("error", failed);
    consumer.on("processing_error", failed);
  }
  const stop = startClock();
  for (const consumer of consumers) consumer.start();
  await all;
  const sample = stop();
  for (const consumer of consumers) consumer.stop({ abort: true });
  client.destroy();
  await deleteQueue(endpoint, url);
  if (check < 0) throw new Error("unreachable");
  return sample;
}

const scenarios: Record<string, Scenario> = {
  "sqs send": {
    title: "SQS (fauxqs) send, 1000 in flight",
    note: "none: both sides send SendMessageBatch requests of 10 with the same attribute, the SDK's MD5 check off and each entry's MD5 checked instead, on equally configured clients.",
    run: () =>
      withEmulator(async (endpoint) => {
        const attributes = await carrotAttributes(endpoint);
        const clients = await carrotClients(endpoint);
        return compareRates(
          COUNT,
          sides(
            () => rawSend(endpoint, clients.send, attributes),
            () => carrotSend(endpoint),
            {
              "sqs-producer": () => producerSend(endpoint, attributes),
              "raw without attribute": {
                differentWork: true,
                run: () => rawSend(endpoint, clients.send),
              },
            },
          ),
        );
      }),
  },
  "sqs receive+delete": {
    title: "SQS (fauxqs) receive + delete, prefetch 1000 (4 receivers of 10)",
    note: "none: both sides run 4 long-polling receivers of 10 asking the same of SQS, check each body's MD5 and delete each batch with one DeleteMessageBatch without waiting for it.",
    run: () =>
      withEmulator(async (endpoint) => {
        const clients = await carrotClients(endpoint);
        return compareRates(
          COUNT,
          sides(
            () => rawReceive(endpoint, clients.receive),
            () => carrotReceive(endpoint),
            { "sqs-consumer": () => sqsConsumerReceive(endpoint) },
          ),
        );
      }),
  },
};

// The emulator takes any credentials; the SDK's provider chain reads these.
process.env.AWS_ACCESS_KEY_ID ??= "bench";
process.env.AWS_SECRET_ACCESS_KEY ??= "bench";

export default scenarios;
