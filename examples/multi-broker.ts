/**
 * Several brokers in one application: orders that come in on RabbitMQ are
 * forwarded, as they are, to Redis, SQS and the embedded memory broker, and
 * one ConsumerSet consumes them on all three. Each RabbitMQ message is acked
 * once all three brokers have it: at least once, end to end. With
 * OpenTelemetry on, each order is one trace across the four brokers.
 *   CARROT_AMQP_URL=amqp://guest:guest@127.0.0.1:5672 CARROT_REDIS_URL=redis://127.0.0.1:6379 \
 *   CARROT_SQS_URL='sqs://?endpoint=http://127.0.0.1:4566&region=us-east-1' \
 *   tsx --conditions=@carrot/source examples/multi-broker.ts
 */
import { Connection, Consumer, ConsumerSet, forward, Publisher } from "@carrot/core";
import { currentTraceId, startTracing } from "./tracing.js";

/** Where the orders come in (RabbitMQ), and the three brokers they go on to. */
export interface Brokers {
  rabbitmq: string;
  redis: string;
  sqs: string;
  memory: string;
}

const DESTINATIONS = ["redis", "sqs", "memory"] as const;

/** Sends `orders` to RabbitMQ and prints each as it arrives on Redis, SQS and memory. */
export async function multiBroker(urls: Brokers, orders: number[], name = "orders") {
  startTracing(); // OpenTelemetry's SDK: carrot traces every send, forward and callback
  const route = { exchange: name, routingKey: "order.created" };
  const rabbitmq = new Connection(urls.rabbitmq);
  const others = DESTINATIONS.map((broker) => [broker, new Connection(urls[broker])] as const);
  try {
    const incoming = new Consumer<number>(rabbitmq, { queue: name, ...route });
    const set = new ConsumerSet(
      others.map(
        ([broker, c]) => new Consumer<number>(c, { queue: `${name}-${broker}`, ...route }),
      ),
    );
    set.registerCallback(async (order, message) => {
      // One trace per order, from RabbitMQ through the bridge to each broker.
      console.log(`${message.deliveryInfo.queue}: order ${order}, trace ${currentTraceId()}`);
      await message.ack();
    });
    // Every queue declared before the first order is sent, so that none is dropped unrouted.
    await Promise.all([incoming, ...set.consumers].map((consumer) => consumer.declare()));
    const bridge = forward(
      incoming,
      others.map(([, c]) => new Publisher(c, { exchange: name })),
    );
    const publisher = new Publisher<number>(rabbitmq, route);
    for (const order of orders) await publisher.send(order);
    await set.wait({ limit: orders.length * others.length });
    await bridge.close();
  } finally {
    await Promise.all([rabbitmq, ...others.map(([, c]) => c)].map((c) => c.close()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const env = (name: string, fallback: string) => process.env[name] ?? fallback;
  await multiBroker(
    {
      rabbitmq: env("CARROT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672"),
      redis: env("CARROT_REDIS_URL", "redis://127.0.0.1:6379"),
      sqs: env("CARROT_SQS_URL", "sqs://?endpoint=http://127.0.0.1:4566&region=us-east-1"),
      memory: "memory://",
    },
    [1, 2, 3],
  );
}
