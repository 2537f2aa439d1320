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
 * - send and receive, step by step: the same work with sides that add
 *   carrot's layers one at a time (raw's requests with a promise per
 *   message or per delete, then carrot's backend alone, then carrot's
 *   Publisher or Consumer), and the CPU each step adds (bench/steps.ts).
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
import { TickBatcher } from "@carrot/core/backend";
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
import { stepFigures } from "../../../bench/steps.js";
import startFauxqs from "../test/fauxqs-setup.js";

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const IN_FLIGHT = 1000;
const RECEIVERS = 4;
/** carrot's URL below sets waitTimeSeconds=1; its default visibility timeout is 30 s. */
const WAIT_TIME_SECONDS = 1;
const VISIBILITY_TIMEOUT = 30;
/** SendMessageBatch's limits, as carrot's backend batches by them. */
const SEND_BATCH = { entries: 10, bytes: 1024 * 1024 };

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

/** One SendMessageBatch of `bodies`, each entry checked: failed, or stored with another MD5 than its body's. */
async function sendBatch(
  client: SQSClient,
  url: string,
  bodies: string[],
  attributes?: Attributes,
): Promise<void> {
  const { Successful = [], Failed = [] } = await client.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: bodies.map((body, i) => ({
        Id: String(i),
        MessageBody: body,
        MessageAttributes: attributes,
      })),
    }),
  );
  if (Failed.length > 0) throw new Error(`raw send failed: ${Failed[0]?.Code}`);
  for (const { Id, MD5OfMessageBody } of Successful) {
    if (MD5OfMessageBody !== hash("md5", bodies[Number(Id)]!))
      throw new Error(`message ${Id} stored with another body`);
  }
}

/** Raw: 100 workers, each sending its next SendMessageBatch of 10 when the last is answered. */
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
      for (let n = start; n < next; n++) bodies.push(JSON.stringify(payload(n)));
      await sendBatch(client, url, bodies, attributes);
    }
  };
  const stop = startClock();
  await Promise.all(Array.from({ length: IN_FLIGHT / 10 }, worker));
  const sample = stop();
  client.destroy();
  await deleteQueue(endpoint, url);
  return sample;
}

/**
 * Raw's client and requests, but with carrot's shape of API: IN_FLIGHT
 * senders, each awaiting a promise of its own message's outcome, gathered
 * into requests of 10 by core's TickBatcher (as carrot's SQS backend
 * gathers them). The first step from raw to carrot.
 */
async function rawPerMessageSend(
  endpoint: string,
  config: SQSClientConfig,
  attributes: Attributes,
): Promise<Sample> {
  const client = new SQSClient(config);
  const url = await queueUrl(client, `${newPrefix()}send`);
  const batches = new TickBatcher<string>(async (bodies) => {
    await sendBatch(client, url, bodies, attributes);
    return bodies.map(() => undefined);
  }, SEND_BATCH);
  let next = 0;
  const sender = async () => {
    while (next < COUNT) await batches.add(JSON.stringify(payload(next++)));
  };
  const stop = startClock();
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
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

/** carrot's side: IN_FLIGHT senders, each sending its next message with `send` when its last is sent (as raw's batches). */
async function carrotSendWith(
  endpoint: string,
  send: (publisher: Publisher, n: number) => Promise<void>,
): Promise<Sample> {
  const conn = carrot(endpoint, newPrefix());
  await new Consumer(conn, { queue: "send" }).declare();
  const publisher = new Publisher(conn, { routingKey: "send", maxInFlight: IN_FLIGHT });
  // Ready before the clock, as raw's side is: the queue's URL and the bindings looked up.
  await publisher.send(payload(0));
  let next = 0;
  const sender = async () => {
    while (next < COUNT) await send(publisher, next++);
  };
  const stop = startClock();
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  const sample = stop();
  await conn.deleteQueue("send");
  await conn.close();
  return sample;
}

const carrotSend = (endpoint: string) =>
  carrotSendWith(endpoint, (publisher, n) => publisher.send(payload(n)));

/**
 * The backend alone: the request `Publisher.send` makes of this message
 * (the json codec's bytes, no headers, persistent), handed straight to
 * the SQS backend, without the Publisher's checks, slot and deadline.
 */
const backendSend = (endpoint: string) =>
  carrotSendWith(endpoint, (publisher, n) =>
    publisher.connection.backend.publish({
      exchange: "",
      routingKey: "send",
      message: {
        body: Buffer.from(JSON.stringify(payload(n)), "utf8"),
        contentType: "application/json",
        contentEncoding: "utf-8",
        headers: {},
        properties: { deliveryMode: 2 },
      },
      mandatory: false,
      freshBody: true,
    }),
  );

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

/** A queue filled by carrot (not timed), reached with a raw client of `config`. */
async function filledQueue(
  endpoint: string,
  config: SQSClientConfig,
): Promise<{ client: SQSClient; url: string; remove(): Promise<void> }> {
  const prefix = newPrefix();
  await carrotFill(endpoint, prefix);
  const client = new SQSClient(config);
  const url = await queueUrl(client, `${prefix}recv`);
  return {
    client,
    url,
    async remove() {
      client.destroy();
      await deleteQueue(endpoint, url);
    },
  };
}

/** One long poll for up to 10 messages, asking for what carrot's receive asks. */
async function receiveBatch(client: SQSClient, url: string): Promise<Message[]> {
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
  return Messages;
}

/** The message's id, parsed from its body once its MD5 is checked. */
function readBody(m: Message): number {
  if (m.MD5OfBody !== hash("md5", m.Body ?? "")) throw new Error("a body arrived changed");
  return (JSON.parse(m.Body as string) as { id: number }).id;
}

/** The end of a round: `finished` resolves once `count` has counted COUNT messages, and rejects on `fail`. */
function messageCount(): {
  finished: Promise<void>;
  count: (messages?: number) => void;
  fail: (error: unknown) => void;
} {
  let left = COUNT;
  let done!: () => void;
  let fail!: (error: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  return {
    finished,
    count: (messages = 1) => {
      left -= messages;
      if (left <= 0) done();
    },
    fail,
  };
}

async function rawReceive(endpoint: string, config: SQSClientConfig): Promise<Sample> {
  const { client, url, remove } = await filledQueue(endpoint, config);
  let received = 0;
  let check = 0;
  const deletes: Promise<unknown>[] = [];
  const all = messageCount();
  const receiver = async () => {
    while (received < COUNT) {
      const messages = await receiveBatch(client, url);
      if (messages.length === 0) continue;
      for (const m of messages) check += readBody(m) & 1;
      received += messages.length;
      all.count(messages.length);
      deletes.push(
        client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        ),
      );
    }
  };
  const stop = startClock();
  const receivers = Promise.all(Array.from({ length: RECEIVERS }, receiver));
  // Done at the last message, as carrot's wait({ limit }) is: not when the
  // other receivers' long polls of the empty queue come back (a whole wait time).
  await all.finished;
  await Promise.all(deletes);
  const sample = stop();
  await receivers;
  await remove();
  if (check < 0) throw new Error("unreachable");
  return sample;
}

/**
 * Raw's client and requests, but with carrot's shape of API: each message
 * handled on its own, its delete a promise of its own, gathered into
 * DeleteMessageBatch requests of 10 by core's TickBatcher (as carrot's SQS
 * backend gathers acks). The first step from raw to carrot.
 */
async function rawPerMessageReceive(endpoint: string, config: SQSClientConfig): Promise<Sample> {
  const { client, url, remove } = await filledQueue(endpoint, config);
  const deletes = new TickBatcher<string>(
    async (handles) => {
      const { Failed = [] } = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
        }),
      );
      return handles.map((_, i) =>
        Failed.some(({ Id }) => Id === String(i)) ? new Error("delete failed") : undefined,
      );
    },
    { entries: 10, bytes: Number.POSITIVE_INFINITY },
  );
  let received = 0;
  let check = 0;
  const deleted = messageCount();
  const handle = async (m: Message) => {
    check += readBody(m) & 1;
    await deletes.add(m.ReceiptHandle as string);
    deleted.count();
  };
  const receiver = async () => {
    while (received < COUNT) {
      const messages = await receiveBatch(client, url);
      received += messages.length;
      for (const m of messages) handle(m).catch(deleted.fail);
    }
  };
  const stop = startClock();
  const receivers = Promise.all(Array.from({ length: RECEIVERS }, receiver));
  await deleted.finished;
  const sample = stop();
  await receivers;
  await remove();
  if (check < 0) throw new Error("unreachable");
  return sample;
}

/**
 * carrot's backend alone: its subscription with carrot's prefetch, each
 * delivery's body decoded as the json codec does and acked, without the
 * Consumer's dispatch, Message and settle bookkeeping.
 */
async function backendReceive(endpoint: string): Promise<Sample> {
  const prefix = newPrefix();
  await carrotFill(endpoint, prefix);
  const conn = carrot(endpoint, prefix);
  await new Consumer(conn, { queue: "recv" }).declare();
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let check = 0;
  const acked = messageCount();
  const options = { prefetch: IN_FLIGHT, noAck: false, exclusive: false, consumerTag: prefix };
  const stop = startClock();
  const subscription = await conn.backend.consume("recv", options, (delivery) => {
    check += (JSON.parse(utf8.decode(delivery.message.body)) as { id: number }).id & 1;
    delivery.ack().then(() => acked.count(), acked.fail);
  });
  await acked.finished;
  const sample = stop();
  await subscription.cancel();
  await conn.deleteQueue("recv");
  await conn.close();
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
  let check = 0;
  const processed = messageCount();
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
    consumer.on("message_processed", () => processed.count());
    consumer.on("error", processed.fail);
    consumer.on("processing_error", processed.fail);
  }
  const stop = startClock();
  for (const consumer of consumers) consumer.start();
  await processed.finished;
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
  "sqs send steps": {
    title:
      "SQS (fauxqs) send, from raw to carrot step by step: a promise per message, then carrot's backend, then the Publisher",
    run: () =>
      withEmulator(async (endpoint) => {
        const attributes = await carrotAttributes(endpoint);
        const clients = await carrotClients(endpoint);
        const rounds = await compareRates(
          COUNT,
          sides(
            () => rawSend(endpoint, clients.send, attributes),
            () => carrotSend(endpoint),
            {
              "a promise per message": () => rawPerMessageSend(endpoint, clients.send, attributes),
              "carrot's backend": () => backendSend(endpoint),
            },
          ),
        );
        return stepFigures(rounds, ["raw", "a promise per message", "carrot's backend", "carrot"]);
      }),
  },
  "sqs receive steps": {
    title:
      "SQS (fauxqs) receive + delete, from raw to carrot step by step: a promise per delete, then carrot's backend, then the Consumer",
    run: () =>
      withEmulator(async (endpoint) => {
        const clients = await carrotClients(endpoint);
        const rounds = await compareRates(
          COUNT,
          sides(
            () => rawReceive(endpoint, clients.receive),
            () => carrotReceive(endpoint),
            {
              "a promise per delete": () => rawPerMessageReceive(endpoint, clients.receive),
              "carrot's backend": () => backendReceive(endpoint),
            },
          ),
        );
        return stepFigures(rounds, ["raw", "a promise per delete", "carrot's backend", "carrot"]);
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
