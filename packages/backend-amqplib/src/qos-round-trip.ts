import type { Channel } from "amqplib";

/** basic.qos and basic.qos-ok, numbered as amqplib numbers AMQP methods: (class id << 16) | method id. */
const BASIC_QOS = (60 << 16) | 10;
const BASIC_QOS_OK = (60 << 16) | 11;

/** amqplib's callback-style RPC, which its promise API wraps; its types do not show it. */
type Rpc = (
  method: number,
  fields: { prefetchCount: number; prefetchSize: number; global: boolean },
  expect: number,
  callback: (error: unknown) => void,
) => void;

/**
 * A basic.qos round trip on `channel` with `prefetch`: `ok` once the broker's
 * qos-ok is back, else `fail` with what `channel.prefetch(prefetch)` would
 * have rejected with.
 *
 * `prefetch()` does the same through amqplib's `Channel.rpc`, which builds a
 * util.promisify wrapper per call: about 3 µs of CPU and 2 kB of garbage per
 * round trip on Node 24, where the callback-style `_rpc` it wraps costs
 * 0.1 µs, and a consumer makes one round trip per event-loop turn that
 * settles messages. So this calls `_rpc`, as read in amqplib 2.3.1
 * (lib/channel.js, lib/channel_model.js), and falls back to `prefetch()` on
 * an amqplib without it.
 *
 * `ok` and `fail` run in a microtask, as the promise's handlers did: not
 * inside amqplib's frame handling, where a channel the broker closes fails
 * its RPC before it has finished closing (no 'close' event yet, sends still
 * allowed), and not during this call, when `_rpc` throws because the channel
 * is closing or closed.
 */
export function qosRoundTrip(
  channel: Channel,
  prefetch: number,
  ok: () => void,
  fail: (error: unknown) => void,
): void {
  const rpc = (channel as Channel & { _rpc?: Rpc })._rpc;
  if (typeof rpc !== "function") {
    channel.prefetch(prefetch).then(ok, fail);
    return;
  }
  const fields = { prefetchCount: prefetch, prefetchSize: 0, global: false };
  try {
    // As util.promisify: a truthy error rejects.
    rpc.call(channel, BASIC_QOS, fields, BASIC_QOS_OK, (error) =>
      queueMicrotask(error ? () => fail(error) : ok),
    );
  } catch (error) {
    queueMicrotask(() => fail(error));
  }
}
