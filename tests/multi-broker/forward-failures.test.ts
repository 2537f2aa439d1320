import { deferred, withTimeout } from "@carrot/conformance";
import {
  type CarrotError,
  ClosedError,
  type Consumer,
  type ForwardHandle,
  forward,
  type Message,
  NotFoundError,
  Publisher,
  UnroutableError,
} from "@carrot/core";
import { afterEach, describe, expect, it } from "vitest";
import { type Broker, PAIRS, uniqueName } from "./support/brokers.js";
import { drain, type Endpoint, ROUTING_KEY, receive, Scene, WAIT_MS } from "./support/scene.js";

// A destination that fails leaves the source message where it was: not
// acked, retried at the source by the consumer's failure policy (a copy back
// on the source queue), and the destinations that did confirm get it again.

/** Retried at once, up to 3 deliveries: the second failure still leaves a copy at the source. */
const RETRY = { attempts: 3, backoff: { initial: 0 } };

describe.each(PAIRS)("forward() from %s to %s, a destination failing", (from, to) => {
  const scene = new Scene();
  afterEach(() => scene.cleanUp());

  /** A consumer of `source` with {@link RETRY}, and the errors it reports. */
  function sourceConsumer(source: Endpoint) {
    const consumer = source.consumer(source.connection, { retry: RETRY });
    const errors: CarrotError[] = [];
    consumer.on("error", (error) => errors.push(error));
    return { consumer, errors };
  }

  /**
   * Forwards until the message `payload` is seen a second time (back from
   * the source after its first try failed), then closes at once, while that
   * second try is in flight: its retry copy stays in the source queue.
   */
  async function untilSecondTry(
    consumer: Consumer,
    publishers: Publisher[],
    payload: string,
  ): Promise<Message[]> {
    const seen: Message[] = [];
    const secondTry = deferred<Promise<void>>();
    const bridge: ForwardHandle = forward(consumer, publishers, {
      transform: (message) => {
        seen.push(message);
        if (seen.filter((m) => m.payload === payload).length === 2)
          secondTry.resolve(bridge.close());
      },
    });
    const closing = await withTimeout(secondTry.promise, WAIT_MS, `'${payload}' tried twice`);
    await closing;
    return seen;
  }

  /**
   * The one message left in the source queue: the copy of the second failed
   * try, its failure record counting two. (Its deliveryCount may say one
   * more: the copy may have reached the closing forward, which handed it back.)
   */
  async function copyLeftIn(source: Endpoint, payload: string): Promise<void> {
    const left = await drain(source.consumer(source.connection));
    expect(left.map((m) => [m.payload, m.failure?.attempts])).toEqual([[payload, 2]]);
  }

  it("refused (unroutable, or no such exchange): not acked, retried at the source, never lost", async () => {
    const source = await scene.endpoint(from, "src");
    const target = await scene.endpoint(to, "dst");
    const { publisher: failing, refusal } = await failingPublisher(scene, to);
    const { consumer, errors } = sourceConsumer(source);
    await source.publisher(source.connection).send("m", { routingKey: ROUTING_KEY });

    const seen = await untilSecondTry(
      consumer,
      [target.publisher(target.connection), failing],
      "m",
    );
    expect(seen.map((m) => [m.payload, m.deliveryCount, m.state])).toEqual([
      ["m", 1, "retried"],
      ["m", 2, "retried"],
    ]);
    expect(errors.map((e) => e.cause instanceof refusal)).toEqual([true, true]);
    await copyLeftIn(source, "m");
    // At least once: the destination that confirmed got it on each try.
    const atTarget = await drain(target.consumer(target.connection));
    expect(atTarget.map((m) => m.payload)).toEqual(["m", "m"]);
  });

  it("cut (its connection closed mid-run): not acked, retried at the source, never lost", async () => {
    const source = await scene.endpoint(from, "src");
    const target = await scene.endpoint(to, "dst");
    const cut = await scene.connect(to);
    await target.consumer(cut).declare(); // so that this connection routes by the binding at once
    const { consumer, errors } = sourceConsumer(source);
    const sender = source.publisher(source.connection);

    const forwarding = untilSecondTry(consumer, [target.publisher(cut)], "second");
    await sender.send("first", { routingKey: ROUTING_KEY });
    const [first] = await receive(target.consumer(target.connection), 1, "before the cut");
    expect(first!.payload).toBe("first");
    await cut.close();
    await sender.send("second", { routingKey: ROUTING_KEY });

    const seen = await forwarding;
    expect(seen.map((m) => [m.payload, m.deliveryCount, m.state])).toEqual([
      ["first", 1, "acked"],
      ["second", 1, "retried"],
      ["second", 2, "retried"],
    ]);
    expect(errors.map((e) => e.cause instanceof ClosedError)).toEqual([true, true]);
    await copyLeftIn(source, "second");
    expect(await drain(target.consumer(target.connection))).toEqual([]);
  });
});

/**
 * A publisher on `broker` whose every send fails, and the error it fails
 * with: `mandatory` to an exchange no queue is bound to (UnroutableError),
 * or on SQS, which has no `mandatory`, to an exchange never declared.
 */
async function failingPublisher(
  scene: Scene,
  broker: Broker,
): Promise<{ publisher: Publisher; refusal: typeof UnroutableError | typeof NotFoundError }> {
  const connection = await scene.connect(broker);
  if (connection.capabilities.mandatory) {
    const exchange = await scene.exchangeAlone(broker, "unbound");
    return {
      publisher: new Publisher(connection, { exchange, mandatory: true }),
      refusal: UnroutableError,
    };
  }
  return {
    publisher: new Publisher(connection, { exchange: uniqueName("nowhere-x"), declare: false }),
    refusal: NotFoundError,
  };
}
