import type { RenewLeases } from "@carrot/core/backend";
import { commandError } from "./connection-errors.js";
import type { ScriptedRedis } from "./lua-scripts.js";

/**
 * One consumer of one stream: the group its deliveries' leases are renewed
 * in and its settles are batched in. Made once per subscription (and per
 * stream for `get`), shared by its deliveries.
 */
export class LeaseGroup {
  constructor(
    readonly stream: string,
    readonly consumer: string,
  ) {}
}

/**
 * The renew hook of core's LeaseKeeper for Redis. A stream entry's idle
 * clock starts when it is read, not when a handler starts (dapr #4599), so
 * every held entry is touched by its owner (`XCLAIM ... JUSTID`, which
 * resets the idle time: the lease is fixed, whatever is asked); only a
 * process that stops touching (dead, or cut off from Redis) has its entries
 * reclaimed by others. Resolves to the ids another consumer took.
 */
export function touchLeases(redis: ScriptedRedis, consumerGroup: string): RenewLeases<LeaseGroup> {
  return ({ stream, consumer }, batch) =>
    redis
      .carrotTouch(stream, consumerGroup, consumer, ...batch.map((lease) => lease.id))
      .catch((error: unknown) => {
        throw commandError(error, `renew the leases of consumer '${consumer}'`);
      });
}
