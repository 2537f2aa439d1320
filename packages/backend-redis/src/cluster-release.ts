import { PublishNackedError, type RoutingDecision } from "@carrot/core/backend";
import { outcomeOf } from "./cluster-publisher.js";
import {
  RELEASE_BATCH,
  type ReleaseHost,
  type ReleaseRound,
  routeHeld,
} from "./delayed-release.js";
import { type SlotItem, type SlotStoreHost, storeAcrossSlots } from "./slot-store.js";

/**
 * How long a sweeper holds the due messages it is releasing before another
 * may release them again (ms): the time a release takes, with room. One that
 * dies mid-release leaves its messages to be released once this has passed.
 */
const RELEASE_LEASE_MS = 5_000;

/** What a cluster release works with: the release's host and the slot stores'. */
export type ClusterReleaseHost = ReleaseHost & SlotStoreHost;

/**
 * Moves up to {@link RELEASE_BATCH} due delayed messages into their queues on
 * a Redis Cluster, where the delayed set (the topology's slot) and the
 * queues are in different slots: one script leases the due messages (so
 * other sweepers leave them), each is routed with the route cache and its
 * binding version checked (as a publish), stored slot by slot, and only
 * then taken off the delayed set. A crash or a failed slot between the store
 * and the removal releases the message again when the lease ends: it may be
 * delivered twice into the queues that stored it, never lost.
 */
export async function releaseDueAcrossSlots(host: ClusterReleaseHost): Promise<ReleaseRound> {
  const { redis, keys } = host;
  const due = await redis.carrotClaimDueBuffer(
    keys.delayed(),
    keys.delayedMessages(),
    RELEASE_BATCH,
    RELEASE_LEASE_MS,
  );
  if (due.length === 0) return { released: 0, gone: 0, more: false };
  const held: { id: string; score: string; item: SlotItem }[] = [];
  for (let i = 0; i + 3 < due.length; i += 4) {
    const [id, score, envelope, body] = due
      .slice(i, i + 4)
      .map((field, j) => (j === 3 ? field : field.toString())) as [string, string, string, Buffer];
    // Half a message (another writer's) has nothing to deliver: dropped, as on one Redis.
    const { route, expiration } =
      envelope !== "" && body.length > 0
        ? await routeHeld(host, envelope)
        : { route: { exchange: "", queues: [], version: "" } as RoutingDecision, expiration: "" };
    held.push({ id, score, item: { route, expiration, body, envelope } });
  }
  const round: ReleaseRound = { released: 0, gone: 0, more: held.length === RELEASE_BATCH };
  // Routes made with a stale copy of the bindings go back to their due time, to be routed again.
  const exchanges = [
    ...new Set(
      held.filter(({ item }) => item.route.version !== "").map(({ item }) => item.route.exchange),
    ),
  ];
  const current =
    exchanges.length > 0 ? await redis.mget(...exchanges.map((e) => keys.version(e))) : [];
  const versions = new Map(exchanges.map((exchange, j) => [exchange, current[j] ?? "0"]));
  const fresh = held.filter(({ item: { route } }) => {
    if (route.version === "" || versions.get(route.exchange) === route.version) return true;
    host.topology.invalidate(route.exchange);
    round.more = true;
    return false;
  });
  const stale = held.filter((message) => !fresh.includes(message));
  const outcomes = await storeAcrossSlots(
    host,
    fresh.map(({ item }) => item),
  );
  const done: string[] = [];
  fresh.forEach(({ id, item }, j) => {
    const outcome = outcomeOf(item.route.exchange, outcomes[j]!);
    if (typeof outcome === "number") {
      done.push(id);
      round.released++;
    } else {
      // Left leased: released again, the queues that stored it getting it twice, once the lease ends.
      host.reportError(
        new PublishNackedError(
          `a delayed message for exchange '${item.route.exchange}' could not be stored when it fell due (${outcome.message}); it is tried again in ${RELEASE_LEASE_MS / 1000} s`,
          { cause: outcome },
        ),
      );
    }
  });
  if (done.length + stale.length === 0) return round;
  const tx = redis.multi();
  if (done.length > 0) {
    tx.zrem(keys.delayed(), ...done);
    tx.hdel(keys.delayedMessages(), ...done.flatMap((id) => [`${id}:b`, `${id}:m`]));
  }
  for (const { id, score } of stale) tx.zadd(keys.delayed(), "XX", score, id);
  await tx.exec();
  return round;
}
