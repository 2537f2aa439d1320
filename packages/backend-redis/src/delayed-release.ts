import {
  DecodeError,
  NotFoundError,
  PublishNackedError,
  type RoutingDecision,
} from "@carrot/core/backend";
import type { KeyLayout } from "./key-layout.js";
import type { ScriptedRedis } from "./lua-scripts.js";
import { readEnvelope } from "./message-codec.js";
import { ScriptRoutes } from "./script-routes.js";
import type { TopologyStore } from "./topology-store.js";

/** Delayed messages moved per script call: a script blocks Redis while it runs. */
export const RELEASE_BATCH = 100;

/** A route to no queue: releasing by it drops the message (its exchange is gone, or it cannot be read). */
export const NOWHERE: RoutingDecision = { exchange: "", queues: [], version: "" };

/** What a release works with: the command connection and the binding table. */
export interface ReleaseHost {
  readonly command: ScriptedRedis;
  readonly keys: KeyLayout;
  readonly topology: TopologyStore;
  reportError(error: unknown): void;
}

/** What one call of `releaseDue` did. */
export interface ReleaseRound {
  /** Moved into the queues their routes name (none for a dropped one). */
  released: number;
  /** Found released already by another process: not stored again. */
  gone: number;
  /** More may be due now: the round was full, or bindings changed under it. */
  more: boolean;
}

/**
 * Moves up to {@link RELEASE_BATCH} delayed messages that are due, by Redis's
 * clock, into their queues. Each is routed here with the same route cache as
 * a publish, by the bindings in force now, then stored and taken off the
 * delayed set by one call of the release script, which stores only those
 * still held: two processes releasing at once never deliver one twice.
 * A message whose exchange was deleted meanwhile is dropped, and reported.
 */
export async function releaseDue(host: ReleaseHost): Promise<ReleaseRound> {
  const { command, keys } = host;
  const due = await command.carrotDueDelayed(keys.delayed(), keys.delayedMessages(), RELEASE_BATCH);
  if (due.length === 0) return { released: 0, gone: 0, more: false };
  const routes = new ScriptRoutes(keys);
  const exchanges: string[] = [];
  const messageArgs: string[] = [];
  for (let i = 0; i + 1 < due.length; i += 2) {
    const { route, expiration } = await routeHeld(host, due[i + 1]!);
    exchanges.push(route.exchange);
    messageArgs.push(routes.number(route), expiration, due[i]!);
  }
  const fixedKeys = [keys.due(), keys.delayed(), keys.delayedMessages()];
  const results = await command.carrotRelease(
    fixedKeys.length + routes.keys.length,
    ...fixedKeys,
    ...routes.keys,
    ...routes.arguments(),
    ...messageArgs,
  );
  const round: ReleaseRound = { released: 0, gone: 0, more: exchanges.length === RELEASE_BATCH };
  results.forEach((result, i) => {
    const exchange = exchanges[i]!;
    if (result === -1) {
      host.topology.invalidate(exchange);
      round.more = true;
    } else if (result === -2) {
      round.gone++;
    } else if (typeof result === "string") {
      host.reportError(
        new PublishNackedError(
          `redis refused to store a delayed message for exchange '${exchange}' when it fell due: ${result}; it is tried again in a second`,
        ),
      );
    } else {
      round.released++;
    }
  });
  return round;
}

/** A held message's route now and its TTL; NOWHERE, reported, when it can no longer be routed. */
export async function routeHeld(
  host: ReleaseHost,
  text: string,
): Promise<{ route: RoutingDecision; expiration: string }> {
  const envelope = readEnvelope(text);
  if (envelope instanceof Error) {
    host.reportError(
      new DecodeError(`a delayed message was dropped when it fell due: ${envelope.message}`, {
        cause: envelope,
      }),
    );
    return { route: NOWHERE, expiration: "" };
  }
  const { exchange, routingKey, headers, properties } = envelope;
  const expiration = properties.expiration === undefined ? "" : String(properties.expiration);
  const { topology } = host;
  try {
    const route =
      topology.routeCached(exchange, routingKey, headers) ??
      (await topology.route(exchange, routingKey, headers));
    return { route, expiration };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    host.reportError(
      new NotFoundError(
        `a delayed message for exchange '${exchange}' was dropped when it fell due: the exchange no longer exists`,
        { cause: error },
      ),
    );
    return { route: NOWHERE, expiration };
  }
}
