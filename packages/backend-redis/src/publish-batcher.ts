import {
  type BatchLimits,
  type BatchOutcome,
  clientError,
  PublishNackedError,
  PublishOutcomeUnknownError,
  type PublishRequest,
  type RoutingDecision,
  TickBatcher,
} from "@carrot/core/backend";
import type { KeyLayout } from "./key-layout.js";
import { publishResult, type ScriptedRedis } from "./lua-scripts.js";
import { ScriptRoutes } from "./script-routes.js";

/** One message, routed: where it goes and what is stored. */
export interface RoutedPublish {
  /** The send it stores, for its outcome (see `PublishOutcome`). */
  request: PublishRequest;
  /** The routings of this send before this one that found the bindings changed. */
  attempt: number;
  route: RoutingDecision;
  /** Per-message TTL in ms, "" for none. */
  expiration: string;
  /** Ms to hold the message before it is routed by the bindings then in force, "" for none. */
  delay: string;
  body: Buffer;
  envelope: string;
}

/**
 * A send's outcome from the number of queues that stored it, -1 when the
 * bindings changed under its route: what its caller's promise settles with.
 * The backend gives it to the batcher once, so a send costs the batcher's
 * promise alone, not a second one chained on it. It runs for every entry of
 * a batch's reply: it returns an Error, or a promise that rejects, and never
 * throws.
 */
export type PublishOutcome = (publish: RoutedPublish, stored: number) => BatchOutcome<void>;

/** A batch's bounds: the script blocks Redis while it runs, so it stays short. */
const PUBLISH_BATCH: BatchLimits = { entries: 256, bytes: 1024 * 1024 };

/** Each route's version-only twin, for delayed messages (see `heldRoute`). */
const heldRoutes = new WeakMap<RoutingDecision, RoutingDecision>();

/**
 * The route a delayed message is sent with: its exchange's binding version
 * alone, which the script checks (a deleted exchange shows there), and no
 * queue, since the queues are chosen when it falls due. So a delayed publish
 * touches only keys of the topology's hash slot.
 */
function heldRoute(route: RoutingDecision): RoutingDecision {
  let held = heldRoutes.get(route);
  if (!held) {
    held = { exchange: route.exchange, version: route.version, queues: [] };
    heldRoutes.set(route, held);
  }
  return held;
}

/** A batch awaiting its reply: the socket (counted by `ready` events) it went out on, null while queued offline. */
interface InFlight {
  socket: number | null;
  /** Settles the batch's callers when its socket dies before the reply. */
  lost(): void;
}

/**
 * Sends the publishes made in one turn as one call of the publish script:
 * one round trip and one Lua invocation for the lot (the invocation alone
 * costs Redis several times an XADD), each message still stored in all its
 * queues or none.
 *
 * Publishes have their own connection with ioredis's resend off, because a
 * resent publish could be stored twice; ioredis then never settles a command
 * whose socket died, so this fails such batches itself with
 * PublishOutcomeUnknownError (written, but the reply is lost).
 */
export class PublishBatcher {
  readonly #batches = new TickBatcher<RoutedPublish>((batch) => this.#send(batch), PUBLISH_BATCH);
  readonly #inFlight = new Set<InFlight>();
  readonly #outcome: PublishOutcome;
  #socket = 0;

  constructor(
    readonly redis: ScriptedRedis,
    readonly keys: KeyLayout,
    outcome: PublishOutcome,
  ) {
    this.#outcome = outcome;
    redis.on("ready", () => {
      this.#socket++;
      for (const sent of this.#inFlight) sent.socket ??= this.#socket;
    });
    redis.on("close", () => {
      for (const sent of this.#inFlight) {
        if (sent.socket !== this.#socket) continue; // queued ones go out after the reconnect
        this.#inFlight.delete(sent);
        sent.lost();
      }
    });
  }

  /** Settles with the send's outcome: `outcome` of the number of queues that stored it, or why it failed. */
  publish(publish: RoutedPublish): Promise<void> {
    return this.#batches.add(publish, publish.body.byteLength + publish.envelope.length);
  }

  /** Sends the publishes gathered this turn now (close: before the connection quits). */
  flush(): void {
    this.#batches.flush();
  }

  #send(batch: RoutedPublish[]): Promise<BatchOutcome<void>[]> {
    const args = publishArguments(this.keys, batch);
    return new Promise((resolve) => {
      const sent: InFlight = {
        socket: this.redis.status === "ready" ? this.#socket : null,
        lost: () => resolve(batch.map(({ route }) => lostError(route.exchange))),
      };
      this.#inFlight.add(sent);
      this.redis.carrotPublish(...args).then(
        (results) => {
          if (!this.#inFlight.delete(sent)) return; // failed already with its socket
          resolve(
            batch.map((publish, i) => {
              const result = publishResult(results, i);
              return typeof result === "number"
                ? this.#outcome(publish, result)
                : refusedError(publish.route.exchange, String(result));
            }),
          );
        },
        (error: unknown) => {
          if (!this.#inFlight.delete(sent)) return;
          // A reply from Redis means the script did not run: nothing was stored.
          const refused = error instanceof Error && error.name === "ReplyError";
          resolve(
            batch.map(({ route }) =>
              refused
                ? refusedError(route.exchange, (error as Error).message, error)
                : lostError(route.exchange, error),
            ),
          );
        },
      );
    });
  }
}

/**
 * The publish script's arguments for `batch`: the number of keys, the keys,
 * then each distinct route once (its keys and queues), each distinct
 * envelope once, then the messages in runs. A run is consecutive messages
 * with the same route, envelope, expiration and delay (a publisher's
 * messages mostly are one run): one descriptor, "route envelope count
 * expiration delay", then the run's bodies. So a message costs one argument,
 * its body, where it cost five: the client's and Redis's work per argument
 * was most of what a publish cost beyond its XADD.
 */
export function publishArguments(
  keys: KeyLayout,
  batch: readonly RoutedPublish[],
): [number, ...(string | Buffer)[]] {
  const routes = new ScriptRoutes(keys);
  const envelopes = new Map<string, number>();
  const runs: (string | Buffer)[] = [];
  let run = { route: "", envelope: 0, expiration: "", delay: "", at: -1, count: 0 };
  const close = () => {
    if (run.count === 0) return;
    const { route, envelope, count, expiration, delay } = run;
    runs[run.at] = `${route} ${envelope} ${count} ${expiration} ${delay}`;
  };
  for (const { route, expiration, delay, body, envelope } of batch) {
    const routeNumber = routes.number(delay === "" ? route : heldRoute(route));
    let envelopeNumber = envelopes.get(envelope);
    if (envelopeNumber === undefined) {
      envelopeNumber = envelopes.size + 1;
      envelopes.set(envelope, envelopeNumber);
    }
    if (
      routeNumber !== run.route ||
      envelopeNumber !== run.envelope ||
      expiration !== run.expiration ||
      delay !== run.delay
    ) {
      close();
      run = {
        route: routeNumber,
        envelope: envelopeNumber,
        expiration,
        delay,
        at: runs.length,
        count: 0,
      };
      runs.push(""); // the descriptor, once the run's length is known
    }
    runs.push(body);
    run.count++;
  }
  close();
  const fixedKeys = [keys.due(), keys.delayed(), keys.delayedMessages(), keys.delayedSequence()];
  return [
    fixedKeys.length + routes.keys.length,
    ...fixedKeys,
    ...routes.keys,
    ...routes.arguments(),
    String(envelopes.size),
    ...envelopes.keys(),
    ...runs,
  ];
}

/** `reply`: the ReplyError when Redis refused the whole batch, kept as a sanitized cause. */
export function refusedError(
  exchange: string,
  reason: string,
  reply?: unknown,
): PublishNackedError {
  const message = `redis refused the publish to '${exchange}': ${reason}`;
  return reply === undefined
    ? new PublishNackedError(message)
    : clientError(PublishNackedError, message, reply);
}

export function lostError(exchange: string, cause?: unknown): PublishOutcomeUnknownError {
  const message = `the redis connection failed while publishing to '${exchange}'; the message may or may not be stored`;
  return cause === undefined
    ? new PublishOutcomeUnknownError(message)
    : clientError(PublishOutcomeUnknownError, message, cause);
}
