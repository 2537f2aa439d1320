import { clientError, PublishNackedError, PublishOutcomeUnknownError } from "@carrot/core/backend";
import type { KeyLayout } from "./key-layout.js";
import type { ScriptedRedis } from "./lua-scripts.js";
import type { RoutingDecision } from "./topology-store.js";

/** One message, routed: where it goes and what is stored. */
export interface RoutedPublish {
  route: RoutingDecision;
  /** Per-message TTL in ms, "" for none. */
  expiration: string;
  body: Buffer;
  envelope: string;
}

interface Pending {
  publish: RoutedPublish;
  resolve: (stored: number) => void;
  reject: (error: Error) => void;
}

/** A batch's bounds: the script blocks Redis while it runs, so it stays short. */
const MAX_BATCH_MESSAGES = 256;
const MAX_BATCH_BYTES = 1024 * 1024;

/**
 * Sends the publishes made in one tick as one call of the publish script:
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
  #batch: Pending[] = [];
  #bytes = 0;
  #scheduled = false;
  /** Batches awaiting their reply, with the socket (counted by `ready` events) they went out on; null while queued offline. */
  readonly #inFlight = new Map<Pending[], { socket: number | null }>();
  #socket = 0;

  constructor(
    readonly redis: ScriptedRedis,
    readonly keys: KeyLayout,
  ) {
    redis.on("ready", () => {
      this.#socket++;
      for (const sent of this.#inFlight.values()) sent.socket ??= this.#socket;
    });
    redis.on("close", () => {
      for (const [batch, sent] of this.#inFlight) {
        if (sent.socket !== this.#socket) continue; // queued ones go out after the reconnect
        this.#inFlight.delete(batch);
        for (const p of batch) p.reject(lostError(p.publish.route.exchange));
      }
    });
  }

  /** Resolves with the number of queues that stored the message, or -1 when the bindings changed. */
  publish(publish: RoutedPublish): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ publish, resolve, reject });
      this.#bytes += publish.body.byteLength + publish.envelope.length;
      if (this.#batch.length >= MAX_BATCH_MESSAGES || this.#bytes >= MAX_BATCH_BYTES) {
        this.#flush();
      } else if (!this.#scheduled) {
        this.#scheduled = true;
        // After this tick's promise jobs, so that a window of sends made together is one batch.
        process.nextTick(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#bytes = 0;
    // Each distinct route once (its keys and queues), then each message by its route's number.
    const keys: string[] = [this.keys.due()];
    const routeArgs: string[] = [];
    const messageArgs: (string | Buffer)[] = [];
    const routeNumbers = new Map<RoutingDecision, string>();
    for (const { publish } of batch) {
      const { route } = publish;
      let number = routeNumbers.get(route);
      if (number === undefined) {
        number = String(routeNumbers.size + 1);
        routeNumbers.set(route, number);
        keys.push(this.keys.version(route.exchange));
        for (const queue of route.queues) {
          keys.push(this.keys.queueMeta(queue), this.keys.stream(queue), this.keys.dead(queue));
        }
        routeArgs.push(route.version, String(route.queues.length), ...route.queues);
      }
      messageArgs.push(number, publish.expiration, publish.body, publish.envelope);
    }
    this.#inFlight.set(batch, { socket: this.redis.status === "ready" ? this.#socket : null });
    this.redis
      .carrotPublish(keys.length, ...keys, String(routeNumbers.size), ...routeArgs, ...messageArgs)
      .then(
        (results) => {
          if (!this.#inFlight.delete(batch)) return; // failed already with its socket
          batch.forEach((p, i) => {
            const result = results[i];
            if (typeof result === "number") p.resolve(result);
            else p.reject(refusedError(p.publish.route.exchange, String(result)));
          });
        },
        (error: unknown) => {
          if (!this.#inFlight.delete(batch)) return;
          // A reply from Redis means the script did not run: nothing was stored.
          const refused = error instanceof Error && error.name === "ReplyError";
          for (const p of batch) {
            const { exchange } = p.publish.route;
            p.reject(
              refused
                ? refusedError(exchange, (error as Error).message, error)
                : lostError(exchange, error),
            );
          }
        },
      );
  }
}

/** `reply`: the ReplyError when Redis refused the whole batch, kept as a sanitized cause. */
function refusedError(exchange: string, reason: string, reply?: unknown): PublishNackedError {
  const message = `redis refused the publish to '${exchange}': ${reason}`;
  return reply === undefined
    ? new PublishNackedError(message)
    : clientError(PublishNackedError, message, reply);
}

function lostError(exchange: string, cause?: unknown): PublishOutcomeUnknownError {
  const message = `the redis connection failed while publishing to '${exchange}'; the message may or may not be stored`;
  return cause === undefined
    ? new PublishOutcomeUnknownError(message)
    : clientError(PublishOutcomeUnknownError, message, cause);
}
