/**
 * The bridge between brokers: `forward()` consumes one queue and sends each
 * message on to one or more publishers, on any connections and backends,
 * acking the source only once every destination has confirmed it.
 */
import type { CarriedBy, PayloadSource } from "./codecs/payload-types.js";
import { type Consumer, DEFAULT_PREFETCH } from "./consumer.js";
import { InvalidOptionsError } from "./errors.js";
import { type ForwardChange, type ForwardDestination, sendOn } from "./forward-message.js";
import { InFlightLimit, SlotWait } from "./in-flight-limit.js";
import type { Message } from "./message.js";
import { checkNumber } from "./number-options.js";
import { checkOptionNames, optionNames } from "./option-names.js";

export type { ForwardChange, ForwardDestination } from "./forward-message.js";

/**
 * Decides, message by message, what is forwarded. It returns:
 * - `undefined` (or nothing): the message goes on as it is, byte for byte;
 * - `null`: the message is dropped: acked at the source, sent nowhere;
 * - a {@link ForwardChange}: the message goes on with a new payload, routing
 *   key and/or headers.
 * It may be async. It reads the message (`message.payload` decodes it on
 * demand) but does not settle it: forward() does. One that throws leaves the
 * message to the consumer's failure policy, as a destination that fails does.
 */
export type ForwardTransform<T = unknown> = (
  message: Message<T>,
  // biome-ignore lint/suspicious/noConfusingVoidType: a transform that returns nothing forwards as is.
) => ForwardChange | null | undefined | void | PromiseLike<ForwardChange | null | undefined | void>;

/** How `forward()` moves messages. */
export interface ForwardOptions<T = unknown> {
  /** What becomes of each message on its way: see {@link ForwardTransform}. Default: every message as it is. */
  transform?: ForwardTransform<T>;
  /**
   * Messages forwarded at once (received, not yet confirmed by every
   * destination); the rest wait, received, for a slot. Default: the
   * consumer's `prefetchCount` (no limit for a prefetch of 0).
   */
  maxInFlight?: number;
}

/** A running forward. */
export interface ForwardHandle {
  /**
   * Stops taking messages, lets those in flight finish (sent, confirmed,
   * acked; or settled by the failure policy), hands those received but not
   * started back to the source queue, then resolves. The consumer, the
   * publishers and their connections stay open: they are the caller's.
   */
  close(): Promise<void>;
  /**
   * How the forward ended: resolves once it stopped (a `close()`, the
   * consumer cancelled or closed, its connection closed), rejects when
   * consuming failed (the source queue deleted: `NotFoundError`; the
   * connection or declaration failing at the start). Failures of single
   * messages are not here: they go through the consumer's failure policy
   * and are reported on its "error" event.
   */
  readonly done: Promise<void>;
  /** `await using bridge = forward(...)`: `close()` at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

const FORWARD_OPTION_NAMES = optionNames<keyof ForwardOptions>({
  transform: true,
  maxInFlight: true,
});
const CHANGE_NAMES = optionNames<keyof ForwardChange>({
  payload: true,
  routingKey: true,
  headers: true,
});

/**
 * Moves every message of `consumer`'s queue to the publishers (each on its
 * own connection and backend, or the same), body and all as it is: content
 * type, encoding, compression, headers and properties (less `userId`, which
 * RabbitMQ checks against the sender, and carrot's failure record, which
 * counts attempts at the source). Nothing is decoded or encoded unless a
 * transform gives a new payload. Each message is sent to the publisher's
 * `routingKey` when it has one, else with the key it was published with.
 *
 * The source message is acked only once every destination has confirmed it.
 * A destination that fails (nack, timeout, unroutable with `mandatory`, a
 * lost connection) leaves it to the consumer's failure policy: retried at
 * the source after a backoff, then dead-lettered or moved to the failed
 * queue; the report (a `CallbackError` whose cause is the first
 * destination's error) is on the consumer's "error" event.
 *
 * At least once, end to end: a message is never lost, and may arrive twice:
 * destinations that confirmed get it again when another failed and it is
 * retried, and after a crash between the confirms and the ack. Consumers
 * downstream that must not act twice deduplicate (by `messageId`, say).
 *
 * The consumer must not be consuming already, and not with `noAck` (which
 * would lose what a destination refuses).
 */
export function forward<T extends CarriedBy<T, S>, S extends PayloadSource = "json">(
  consumer: Consumer<T, S>,
  publishers: ForwardDestination | readonly ForwardDestination[],
  options: ForwardOptions<T> = {},
): ForwardHandle {
  checkOptionNames(options, FORWARD_OPTION_NAMES, "for forward()");
  const destinations = Array.isArray(publishers) ? [...publishers] : [publishers];
  if (destinations.length === 0)
    throw new InvalidOptionsError("forward() needs at least one publisher to send to");
  if (consumer.options.noAck)
    throw new InvalidOptionsError(
      `forward() needs a consumer that acks: the consumer of '${consumer.queue}' has noAck, so a message a destination refused would be lost`,
    );
  const { transform } = options;
  if (transform !== undefined && typeof transform !== "function")
    throw new InvalidOptionsError("the transform of forward() must be a function");
  const limit = new InFlightLimit(maxInFlight(consumer, options.maxInFlight));
  let closing = false;

  const forwardOne = async (message: Message<T>): Promise<void> => {
    const change = transform ? checkedChange(await transform(message)) : undefined;
    if (change === null) return message.ack();
    const sends = await Promise.allSettled(
      destinations.map((publisher) => sendOn(publisher, message as Message<unknown>, change)),
    );
    const failed = sends.find((send) => send.status === "rejected");
    if (failed) throw failed.reason;
    await message.ack();
  };

  // A message not started when closing is left unsettled: the consumer's cancel() requeues it.
  const done = consumer.consumeUndecoded(async (message: Message<T>) => {
    if (closing || !(limit.tryAcquire() || (await new SlotTurn(limit, () => closing).granted)))
      return;
    try {
      await forwardOne(message);
    } finally {
      limit.release();
    }
  });
  // Observed here, so that a forward nobody awaits does not crash the process when it fails.
  done.catch(() => undefined);

  let closed: Promise<void> | undefined;
  const close = () => {
    closing = true;
    closed ??= consumer.cancel().then(() => done.then(noop, noop));
    return closed;
  };
  return { close, done, [Symbol.asyncDispose]: close };
}

/** A forward that waits for a slot: `granted` resolves true with one, false if closing meanwhile. */
class SlotTurn extends SlotWait {
  readonly granted: Promise<boolean>;
  readonly #closing: () => boolean;
  #resolve!: (granted: boolean) => void;

  constructor(limit: InFlightLimit, closing: () => boolean) {
    super();
    this.#closing = closing;
    this.granted = new Promise<boolean>((resolve) => {
      this.#resolve = resolve;
    });
    limit.enqueue(this);
  }

  /** Declined when closing: the slot goes on, and each waiting forward returns unstarted. */
  grant(): boolean {
    const taken = !this.#closing();
    this.#resolve(taken);
    return taken;
  }
}

/** `maxInFlight` as given, else the consumer's prefetch; a prefetch of 0 (unbounded) bounds nothing. */
function maxInFlight(
  consumer: { options: { prefetchCount?: number } },
  given: number | undefined,
): number {
  const value = checkNumber("maxInFlight", given, { min: 1 });
  if (value !== undefined) return value;
  const prefetch = consumer.options.prefetchCount ?? DEFAULT_PREFETCH;
  return prefetch === 0 ? Number.POSITIVE_INFINITY : prefetch;
}

/** What a transform returned, checked: a typo in a change would otherwise forward the message unchanged. */
function checkedChange(change: unknown): ForwardChange | null | undefined {
  if (change === undefined || change === null) return change;
  if (typeof change !== "object")
    throw new InvalidOptionsError(
      `a forward() transform returns undefined (forward as is), null (drop) or { payload?, routingKey?, headers? }, got a ${typeof change}`,
    );
  checkOptionNames(change, CHANGE_NAMES, "in what the forward() transform returned");
  return change;
}

function noop(): void {}
