import { type ConformanceGroup, registerGroup, registerSkippedGroup } from "./conformance-case.js";
import { data } from "./groups/data.js";
import { delays } from "./groups/delays.js";
import { delivery } from "./groups/delivery.js";
import { failures } from "./groups/failures.js";
import { faults } from "./groups/faults.js";
import { hostile } from "./groups/hostile.js";
import { leases } from "./groups/leases.js";
import { lifecycle } from "./groups/lifecycle.js";
import { requestReply } from "./groups/request-reply.js";
import { routing } from "./groups/routing.js";
import { resolveOptions, type SuiteOptions } from "./options.js";

/**
 * The whole suite: every group, under one `describe` named after the backend;
 * the network fault cases too when `options.faults` is given, and the
 * hostile-input cases when `options.hostile` is.
 */
export function describeBackend(name: string, options: SuiteOptions): void {
  const resolved = resolveOptions(options);
  const optional: [ConformanceGroup, boolean, string][] = [
    [faults, resolved.faults !== undefined, NO_FAULTS],
    [hostile, resolved.hostile !== undefined, NO_HOSTILE],
  ];
  resolved.runner.describe(`carrot conformance: ${name}`, () => {
    for (const group of [
      routing,
      delivery,
      data,
      lifecycle,
      leases,
      delays,
      failures,
      requestReply,
    ])
      registerGroup(resolved, group);
    for (const [group, given, reason] of optional) {
      if (given) registerGroup(resolved, group);
      else registerSkippedGroup(resolved, group, reason);
    }
  });
}

const NO_FAULTS =
  "no `faults` option (a fault-injecting proxy needs a broker reached over TCP), so nothing here was proven";
const NO_HOSTILE = "no `hostile` option (a raw writer for the broker), so nothing here was proven";

function describeOne(group: typeof routing) {
  return (name: string, options: SuiteOptions): void => {
    const resolved = resolveOptions(options);
    resolved.runner.describe(`carrot conformance: ${name}`, () => registerGroup(resolved, group));
  };
}

/** Exchanges, bindings and routing keys: which queues get which messages. */
export const describeRouting = describeOne(routing);
/** Acks, rejects, redelivery, prefetch, competing consumers, order, volume. */
export const describeDelivery = describeOne(delivery);
/** Bodies, codecs, properties, headers, size limits, undecodable messages. */
export const describeData = describeOne(data);
/** Declarations, close, failing callbacks, persistence, TTL, priority, length limits. */
export const describeLifecycle = describeOne(lifecycle);
/** Leases kept while messages are held, and extend() (needs `options.leases` where the backend has them). */
export const describeLeases = describeOne(leases);
/** Delayed delivery: on time within `options.delayToleranceMs`, never held back, routed and carried as without a delay. */
export const describeDelays = describeOne(delays);
/** The failure policy: attempts, backoff, exhausted messages, message.retry(), delivery counts. */
export const describeFailures = describeOne(failures);
/** Request-reply: round trips, concurrent requests, timeouts, close, and a killed requester (needs `options.processes` for that one). */
export const describeRequestReply = describeOne(requestReply);

/**
 * Cuts, refused and stalled connects through a fault-injecting proxy. Needs
 * `options.faults`: it is the one group that cannot run without it.
 */
export function describeFaults(name: string, options: SuiteOptions): void {
  const resolved = resolveOptions(options);
  if (!resolved.faults) {
    throw new Error(
      "@carrot/conformance: describeFaults needs options.faults ({ target: { host, port }, connectThrough(port, overrides) })",
    );
  }
  resolved.runner.describe(`carrot conformance: ${name}`, () => registerGroup(resolved, faults));
}

/**
 * Messages other clients wrote straight onto the broker: bad bodies, bombs,
 * broken envelopes, hostile headers, generated garbage. Needs
 * `options.hostile`.
 */
export function describeHostile(name: string, options: SuiteOptions): void {
  const resolved = resolveOptions(options);
  if (!resolved.hostile) {
    throw new Error(
      "@carrot/conformance: describeHostile needs options.hostile ({ write(queue, message), writeEnvelope? })",
    );
  }
  resolved.runner.describe(`carrot conformance: ${name}`, () => registerGroup(resolved, hostile));
}
