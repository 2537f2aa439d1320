import type {
  Backend,
  Capabilities,
  Delivery,
  DeliveryInfo,
  Headers,
  PublishRequest,
  QueueDeclaration,
  RawMessage,
} from "../../src/contract.js";
import { plainCapabilities, quietBackend } from "./test-backend.js";

/** What a test backend was asked to do; `log` in order: "publish <exchange>/<key>", "ack <id>", "requeue <id>", "reject <id>". */
export interface Recording {
  readonly log: string[];
  readonly published: PublishRequest[];
  readonly declaredQueues: QueueDeclaration[];
}

/** Plain capabilities plus what the failure policy uses: delays, mandatory, dead-lettering. */
export function policyCapabilities(overrides: Partial<Capabilities> = {}): Capabilities {
  return {
    ...plainCapabilities(64 * 1024),
    mandatory: true,
    deadLetter: true,
    delayedDelivery: true,
    ...overrides,
  };
}

/** How a test delivery differs from the default one (queue q, from exchange x with key k, a JSON body). */
export interface DeliveryShape {
  queue?: string;
  headers?: Headers;
  info?: Partial<DeliveryInfo>;
  message?: Partial<RawMessage>;
}

/**
 * A backend that records publishes, queue declarations and settles, in one
 * log, and hands the deliveries queued with `deliver` to `get` (one each)
 * and to `consume` (all at once). A test replaces a method to make a step fail.
 */
export function recordingBackend(
  capabilities: Capabilities = policyCapabilities(),
): Backend & Recording & { deliver(id: string, shape?: DeliveryShape): Delivery } {
  const log: string[] = [];
  const published: PublishRequest[] = [];
  const declaredQueues: QueueDeclaration[] = [];
  const deliveries: Delivery[] = [];
  return {
    ...quietBackend("recording", capabilities),
    log,
    published,
    declaredQueues,
    deliver(id, shape) {
      const delivery = recordedDelivery(log, id, shape);
      deliveries.push(delivery);
      return delivery;
    },
    declareQueue: async (queue) => {
      declaredQueues.push(queue);
    },
    publish: async (request) => {
      log.push(`publish ${request.exchange}/${request.routingKey}`);
      published.push(request);
    },
    get: async () => deliveries.shift() ?? null,
    consume: async (_queue, options, onDelivery) => {
      for (const delivery of deliveries.splice(0)) onDelivery(delivery);
      return { consumerTag: options.consumerTag, cancel: async () => undefined };
    },
  };
}

/** A delivery whose settles are written to `log` as "ack <id>", "requeue <id>", "reject <id>". */
function recordedDelivery(
  log: string[],
  id: string,
  { queue = "q", headers = {}, info = {}, message = {} }: DeliveryShape = {},
): Delivery {
  return {
    message: {
      body: new TextEncoder().encode(JSON.stringify({ id })),
      contentType: "application/json",
      contentEncoding: "utf-8",
      headers: Object.assign(Object.create(null) as Headers, headers),
      properties: { deliveryMode: 2 },
      ...message,
    },
    info: { exchange: "x", routingKey: "k", redelivered: false, queue, ...info },
    ack: async () => {
      log.push(`ack ${id}`);
    },
    reject: async (requeue) => {
      log.push(`${requeue ? "requeue" : "reject"} ${id}`);
    },
  };
}
