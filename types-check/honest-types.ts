// What the types promise, as a user's compiler sees the built packages:
// payload types a codec cannot carry, and transportOptions keys no backend
// knows, do not compile. Every `@ts-expect-error` must meet its error.

import "@carrot/backend-amqplib";
import "@carrot/backend-sqs";
import type { AmqplibOptions } from "@carrot/backend-amqplib";
import { Connection, Consumer, Publisher, type TransportOptionsFor } from "@carrot/core";

interface Order {
  id: string;
  lines: { sku: string; quantity: number }[];
  note?: string;
}

export function payloads(connection: Connection, order: Order): void {
  void new Publisher<Order>(connection).send(order);
  void new Consumer<Order>(connection, { queue: "orders" });
  // @ts-expect-error json carries a Date as a string
  void new Consumer<{ at: Date }>(connection, { queue: "orders" });
  void new Consumer<{ at: Date }, "msgpack">(connection, { queue: "orders" });
  // @ts-expect-error json cannot encode a bigint
  void new Publisher(connection).send(10n);
  // A codec of one's own, its payload type declared below.
  void new Publisher<Order, "order-proto">(connection, { serializer: "order-proto" });
  // @ts-expect-error order-proto carries Orders
  void new Publisher(connection, { serializer: "order-proto" }).send({ other: 1 });
}

declare module "@carrot/core" {
  interface CodecPayloads {
    "order-proto": Order;
  }
}

export const amqp = new Connection({
  url: "amqp://localhost",
  transportOptions: { frameMax: 131_072, reconnectWait: 5_000 },
});

export const sqs = new Connection({
  url: "sqs://eu-west-1",
  transportOptions: { maxAttempts: 2 },
});

export const misspelt = new Connection({
  url: "amqp://localhost",
  // @ts-expect-error no backend knows 'frameMaxx'
  transportOptions: { frameMaxx: 131_072 },
});

export const wrongType = new Connection({
  url: "amqp://localhost",
  // @ts-expect-error frameMax is a number
  transportOptions: { frameMax: "big" },
});

// Held to one backend's keys: the scheme's own type.
export const oneBackend: AmqplibOptions = {
  channelMax: 16,
} satisfies TransportOptionsFor<"amqp">;
// @ts-expect-error 'maxAttempts' is the SQS client's, not amqplib's
export const notAmqp: TransportOptionsFor<"amqp"> = { maxAttempts: 2 };
