import { withTimeout } from "@carrot/conformance";
import {
  Connection,
  Consumer,
  type ConsumerOptions,
  DEFAULT_ACCEPT,
  type Message,
  Publisher,
  type PublisherOptions,
  registerCodec,
} from "@carrot/core";
import { type Broker, uniqueName, urlOf } from "./brokers.js";

/** The routing key every test publishes its source messages with. */
export const ROUTING_KEY = "orders.created";

/** A content type no codec of carrot's knows: bytes the bridge must carry untouched. */
export const PROTOBUF = "application/x-protobuf";
registerCodec({
  name: "protobuf-bytes",
  contentType: PROTOBUF,
  contentEncoding: "binary",
  encode: (bytes: Uint8Array) => bytes,
  decode: (bytes: Uint8Array) => bytes,
});
/** What the tests' consumers decode: carrot's defaults and the protobuf bytes. */
const ACCEPT = [...DEFAULT_ACCEPT, "protobuf-bytes"];

/** Longest wait for what a test waits on: above SQS's 5 s lease, below the test's own limit. */
export const WAIT_MS = 30_000;

/** An exchange on one broker, with a queue bound to it by {@link ROUTING_KEY}. */
export interface Endpoint {
  readonly broker: Broker;
  /** The connection it was declared on, which knows its binding (SQS learns others' within 100 ms). */
  readonly connection: Connection;
  readonly exchange: string;
  readonly queue: string;
  /** A consumer of the queue on `connection` (declaring exchange, queue and binding there). */
  consumer(connection: Connection, options?: ConsumerOptions): Consumer;
  /** A publisher to the exchange on `connection`. */
  publisher(connection: Connection, options?: PublisherOptions<unknown, string>): Publisher;
}

/**
 * One test's connections and topology: each made through it is closed, and
 * each queue and exchange deleted (from a connection of its own, since a
 * test may have closed its), at `cleanUp()`.
 */
export class Scene {
  readonly #connections: Connection[] = [];
  readonly #made: { broker: Broker; queues: string[]; exchanges: string[] }[] = [];

  /** A new connection to `broker`, connected. */
  async connect(broker: Broker): Promise<Connection> {
    const connection = new Connection(urlOf(broker));
    this.#connections.push(connection);
    await connection.connect();
    return connection;
  }

  /** A new exchange and queue on `broker`, declared (with `queueOptions`) before it resolves. */
  async endpoint(
    broker: Broker,
    what: string,
    queueOptions: ConsumerOptions = {},
  ): Promise<Endpoint> {
    const exchange = uniqueName(`${what}-x`);
    const queue = uniqueName(`${what}-q`);
    this.#made.push({ broker, queues: [queue], exchanges: [exchange] });
    const endpoint: Endpoint = {
      broker,
      connection: await this.connect(broker),
      exchange,
      queue,
      consumer: (connection, options = {}) =>
        new Consumer<unknown>(connection, {
          queue,
          exchange,
          routingKey: ROUTING_KEY,
          accept: ACCEPT,
          ...queueOptions,
          ...options,
        }),
      publisher: (connection, options = {}) =>
        new Publisher(connection, { exchange, ...options }) as Publisher,
    };
    await endpoint.consumer(endpoint.connection).declare();
    return endpoint;
  }

  /** An exchange on `broker` that no queue is bound to. */
  async exchangeAlone(broker: Broker, what: string): Promise<string> {
    const exchange = uniqueName(`${what}-x`);
    this.#made.push({ broker, queues: [], exchanges: [exchange] });
    await (await this.connect(broker)).declareExchange({ name: exchange, type: "direct" });
    return exchange;
  }

  async cleanUp(): Promise<void> {
    await Promise.allSettled(this.#connections.splice(0).map((c) => c.close()));
    await Promise.allSettled(
      this.#made.splice(0).map(async ({ broker, queues, exchanges }) => {
        const admin = new Connection(urlOf(broker));
        try {
          for (const queue of queues) await admin.deleteQueue(queue);
          for (const exchange of exchanges) await admin.deleteExchange(exchange);
        } finally {
          await admin.close();
        }
      }),
    );
  }
}

/**
 * The next `count` messages of `consumer`, each acked as it comes; fails
 * after {@link WAIT_MS} naming `what` and how many came.
 */
export async function receive(consumer: Consumer, count: number, what: string): Promise<Message[]> {
  const got: Message[] = [];
  const reading = (async () => {
    for await (const message of consumer) {
      got.push(message);
      await message.ack();
      if (got.length === count) break;
    }
  })();
  await withTimeout(reading, WAIT_MS, `${count} messages ${what}`, () => `${got.length} came`);
  return got;
}

/** What is in `consumer`'s queue now, read with fetch() and acked: [] when it is empty. */
export async function drain(consumer: Consumer): Promise<Message[]> {
  const left: Message[] = [];
  for (let m = await consumer.fetch(); m; m = await consumer.fetch()) {
    left.push(m);
    await m.ack();
  }
  return left;
}
