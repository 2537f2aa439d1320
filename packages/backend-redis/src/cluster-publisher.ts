import {
  type BatchLimits,
  type BatchOutcome,
  clientError,
  PublishNackedError,
  PublishOutcomeUnknownError,
  TickBatcher,
} from "@carrot/core/backend";
import { NodeConnectionLostError } from "./cluster-node-loss.js";
import { type PublishResults, publishResult, type ScriptedRedis } from "./lua-scripts.js";
import {
  lostError,
  type PublishOutcome,
  publishArguments,
  type RoutedPublish,
  refusedError,
} from "./publish-batcher.js";
import { type SlotOutcome, type SlotStoreHost, storeAcrossSlots } from "./slot-store.js";

/** A batch's bounds, as on one Redis: each slot's script blocks its node while it runs. */
const PUBLISH_BATCH: BatchLimits = { entries: 256, bytes: 1024 * 1024 };

/** A message's stores: the number of queues that stored it (-1: the bindings changed), or why not. */
type Stored = number | Error;

/**
 * Publishes on a Redis Cluster. The publishes of one turn go together:
 * - routed ones: first one `MGET` of their exchanges' binding versions (the
 *   topology's slot), then one script per target queue (see
 *   `storeAcrossSlots`). The check comes before the stores, so a binding
 *   change that completed before it is always seen (the message is routed
 *   again), and one that completes after it is concurrent with the publish:
 *   either routing is right. It is the linearisation point that the one-Redis
 *   script's own version check is.
 * - delayed ones: the one-Redis publish script, whose keys (the delayed set,
 *   the version keys) are all in the topology's slot.
 * Each slot's script is followed by `WAIT replicas` on the same node; a
 * message counts as stored only when every slot it went to stored it and a
 * replica has it.
 */
export class ClusterPublisher {
  readonly #batches = new TickBatcher<RoutedPublish>((batch) => this.#send(batch), PUBLISH_BATCH);
  readonly #outcome: PublishOutcome;

  constructor(
    readonly host: SlotStoreHost,
    outcome: PublishOutcome,
  ) {
    this.#outcome = outcome;
  }

  /** Settles with the send's outcome: `outcome` of the number of queues that stored it, or why it failed. */
  publish(publish: RoutedPublish): Promise<void> {
    return this.#batches.add(publish, publish.body.byteLength + publish.envelope.length);
  }

  /** Sends the publishes gathered this turn now (close: before the connection quits). */
  flush(): void {
    this.#batches.flush();
  }

  async #send(batch: RoutedPublish[]): Promise<BatchOutcome<void>[]> {
    const outcomes: Stored[] = new Array(batch.length);
    const held: number[] = [];
    const routed: number[] = [];
    batch.forEach(({ delay }, i) => {
      (delay === "" ? routed : held).push(i);
    });
    await Promise.all([
      held.length > 0 && this.#hold(batch, held, outcomes),
      routed.length > 0 && this.#store(batch, routed, outcomes),
    ]);
    return outcomes.map((stored, i) =>
      typeof stored === "number" ? this.#outcome(batch[i] as RoutedPublish, stored) : stored,
    );
  }

  /** Delayed messages: the publish script, in the topology's slot, and its `WAIT`. */
  async #hold(batch: RoutedPublish[], indexes: number[], outcomes: Stored[]): Promise<void> {
    const { redis, keys, replicas, replicaTimeout } = this.host;
    const pipeline = redis.pipeline();
    (pipeline as unknown as ScriptedRedis).carrotPublish(
      ...publishArguments(
        keys,
        indexes.map((i) => batch[i] as RoutedPublish),
      ),
    );
    if (replicas > 0) pipeline.wait(replicas, replicaTimeout);
    const fail = (error: unknown, known: boolean) => {
      for (const i of indexes) {
        const { exchange } = (batch[i] as RoutedPublish).route;
        outcomes[i] = known
          ? refusedError(exchange, (error as Error).message, error)
          : lostError(exchange, error);
      }
    };
    try {
      const [[error, results] = [new Error("no reply")], waited] = ((await pipeline.exec()) ??
        []) as [Error | null, unknown][];
      if (error) return fail(error, error.name === "ReplyError");
      if (waited && (waited[0] || Number(waited[1]) < replicas)) {
        return fail(waited[0] ?? new Error(`no replica had it within ${replicaTimeout} ms`), false);
      }
      indexes.forEach((i, j) => {
        const result = publishResult(results as PublishResults, j);
        outcomes[i] =
          typeof result === "number"
            ? result
            : refusedError((batch[i] as RoutedPublish).route.exchange, String(result));
      });
    } catch (error) {
      fail(error, false);
    }
  }

  /** Routed messages: their versions checked, then stored slot by slot. */
  async #store(batch: RoutedPublish[], indexes: number[], outcomes: Stored[]): Promise<void> {
    const { redis, keys } = this.host;
    const exchanges = [
      ...new Set(
        indexes
          .map((i) => (batch[i] as RoutedPublish).route)
          .filter((route) => route.version !== "")
          .map((route) => route.exchange),
      ),
    ];
    let versions: Map<string, string>;
    try {
      const versionKeys = exchanges.map((e) => keys.version(e));
      // A read, before anything is stored: one cut off by a lost node connection is asked
      // again (it waits for the client's reconnect) rather than failing the sends.
      const current =
        versionKeys.length === 0
          ? []
          : await redis.mget(...versionKeys).catch((error: unknown) => {
              if (!(error instanceof NodeConnectionLostError)) throw error;
              return redis.mget(...versionKeys);
            });
      versions = new Map(exchanges.map((exchange, j) => [exchange, current[j] ?? "0"]));
    } catch (error) {
      // Nothing was stored: the check comes first.
      for (const i of indexes) {
        outcomes[i] = clientError(
          PublishNackedError,
          `redis could not check the bindings of exchange '${(batch[i] as RoutedPublish).route.exchange}'; the message was not stored`,
          error,
        );
      }
      return;
    }
    const fresh = indexes.filter((i) => {
      const { route } = batch[i] as RoutedPublish;
      if (route.version === "" || versions.get(route.exchange) === route.version) return true;
      outcomes[i] = -1;
      return false;
    });
    const stored = await storeAcrossSlots(
      this.host,
      fresh.map((i) => batch[i] as RoutedPublish),
    );
    fresh.forEach((i, j) => {
      outcomes[i] = outcomeOf((batch[i] as RoutedPublish).route.exchange, stored[j] as SlotOutcome);
    });
  }
}

/** A message's result over its slots: the count when all stored it, else why not. */
export function outcomeOf(exchange: string, { stored, refused, unknown }: SlotOutcome): Stored {
  if (unknown.length > 0) {
    return clientError(
      PublishOutcomeUnknownError,
      `the redis cluster failed while publishing to '${exchange}' (${firstLine(unknown[0])}); the message may or may not be stored in some of its queues: sending it again may duplicate it there`,
      unknown[0],
    );
  }
  if (refused.length > 0) {
    const partly =
      stored > 0
        ? `; it was stored in ${stored} of its queues, so sending it again duplicates it there`
        : "";
    return new PublishNackedError(
      `redis refused the publish to '${exchange}': ${refused[0]}${partly}`,
    );
  }
  return stored;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
