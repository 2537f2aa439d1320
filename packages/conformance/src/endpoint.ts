import type {
  Connection,
  Consumer,
  ConsumerOptions,
  Publisher,
  QueueArguments,
} from "@carrot/core";
import type { TestKit } from "./test-kit.js";

/**
 * A queue bound to its own direct exchange by one key: the shape most
 * delivery and lifecycle cases need. Every consumer made from it declares
 * the same exchange, queue and binding, so they never conflict.
 */
export class Endpoint {
  readonly exchange: string;
  readonly queue: string;
  readonly routingKey = "k";

  constructor(
    readonly t: TestKit,
    label: string,
    readonly queueArguments: QueueArguments = {},
    queue = t.name(label),
  ) {
    this.exchange = t.name(`${label}-x`);
    this.queue = queue;
  }

  consumer<T = string>(
    connection: Connection = this.t.main,
    extra: Omit<ConsumerOptions<T>, "queue" | "exchange" | "routingKey" | "queueArguments"> = {},
  ): Consumer<T> {
    return this.t.consumer<T>(connection, {
      queue: this.queue,
      exchange: this.exchange,
      routingKey: this.routingKey,
      queueArguments: this.queueArguments,
      ...extra,
    });
  }

  publisher<T = string>(connection: Connection = this.t.main): Publisher<T> {
    return this.t.publisher<T>(connection, {
      exchange: this.exchange,
      routingKey: this.routingKey,
    });
  }
}

/**
 * A dead-letter exchange with one queue that receives everything dead-lettered
 * with the endpoint's key: `queueArguments` for the endpoint, and the DLQ.
 */
export function deadLetterRoute(t: TestKit): {
  queueArguments: QueueArguments;
  dlq: Endpoint;
} {
  const dlq = new Endpoint(t, "dlq");
  return { queueArguments: { deadLetterExchange: dlq.exchange }, dlq };
}
