import type {
  Delivery,
  DeliveryInfo,
  DeliveryTracker,
  HeldDelivery,
  PrefetchWindow,
  RawMessage,
} from "@carrot/core/backend";
import type { MemoryQueue } from "./memory-queue.js";
import type { StoredMessage } from "./stored-message.js";

/** What a settle does with a delivery once the tracker has let it through. */
export type SettleWork = (delivery: MemoryDelivery) => void;

/** How the deliveries of one connection settle: its tracker, and where rejected messages go. */
export interface DeliverySettler {
  readonly tracker: DeliveryTracker<MemoryDelivery>;
  readonly deadLetter: SettleWork;
}

/**
 * A settle of the memory broker is done when it returns: one resolved
 * promise serves them all (it is never mutated), instead of one made per
 * message by an async function.
 */
const SETTLED: Promise<void> = Promise.resolve();

function acked(): void {}

function requeued({ queue, stored }: MemoryDelivery): void {
  queue.requeue(stored);
}

/** Where a delivery's settle state lives: symbol keys, which a spread copy keeps (see MemoryDelivery). */
const HELD = Symbol("held");
const SETTLER = Symbol("settler");

function settle(delivery: MemoryDelivery, work: SettleWork): Promise<void> {
  try {
    delivery[SETTLER].tracker.settle(delivery[HELD], work);
    return SETTLED;
  } catch (error) {
    return Promise.reject(error);
  }
}

function ack(this: MemoryDelivery): Promise<void> {
  return settle(this, acked);
}

function reject(this: MemoryDelivery, requeue: boolean): Promise<void> {
  return settle(this, requeue ? requeued : this[SETTLER].deadLetter);
}

/**
 * One message handed out by a memory queue, and the record the connection's
 * tracker holds until it is settled. `ack` and `reject` are functions shared
 * by every delivery (no closures made per message), held as own properties
 * that find the delivery's state in its own fields: a wrapper that spreads a
 * delivery (`{ ...delivery, info }`) gets a copy that still settles it.
 */
export class MemoryDelivery implements Delivery {
  readonly message: RawMessage;
  readonly info: DeliveryInfo;
  /** Its place in the tracker; none when consumed with noAck. */
  readonly [HELD]?: HeldDelivery<MemoryDelivery>;
  readonly [SETTLER]: DeliverySettler;
  readonly ack: () => Promise<void> = ack;
  readonly reject: (requeue: boolean) => Promise<void> = reject;

  constructor(
    /** The queue it came from, and goes back to when requeued. */
    readonly queue: MemoryQueue,
    /** The queue's copy of the message. */
    readonly stored: StoredMessage,
    settler: DeliverySettler,
    noAck: boolean,
    consumerTag?: string,
    window?: PrefetchWindow,
  ) {
    const deliveryCount = ++stored.deliveries;
    this.message = stored.message;
    this.info = {
      exchange: stored.exchange,
      routingKey: stored.routingKey,
      redelivered: deliveryCount > 1,
      queue: queue.name,
      consumerTag,
      deliveryCount,
    };
    this[SETTLER] = settler;
    this[HELD] = noAck ? undefined : settler.tracker.hold(this, window);
  }
}
