// @carrot/conformance: the suite that defines what "a carrot backend" means.

export { Collector } from "./collector.js";
export type { ConformanceCase, ConformanceGroup } from "./conformance-case.js";
export { connectFailure } from "./connect-failure.js";
export {
  describeBackend,
  describeData,
  describeDelays,
  describeDelivery,
  describeFailures,
  describeFaults,
  describeHostile,
  describeLeases,
  describeLifecycle,
  describeRequestReply,
  describeRouting,
} from "./describe-backend.js";
export { FaultProxy, type ProxyTarget } from "./fault-proxy.js";
export { freePort } from "./free-port.js";
export { data } from "./groups/data.js";
export { delays } from "./groups/delays.js";
export { delivery } from "./groups/delivery.js";
export { failures } from "./groups/failures.js";
export { faults } from "./groups/faults.js";
export { hostile } from "./groups/hostile.js";
export { leases } from "./groups/leases.js";
export { lifecycle } from "./groups/lifecycle.js";
export { requestReply } from "./groups/request-reply.js";
export { routing } from "./groups/routing.js";
export {
  DEFAULT_DELAY_TOLERANCE_MS,
  DEFAULT_TIMEOUT_MS,
  type FaultOptions,
  type ForeignMessage,
  type HostileOptions,
  type LeaseOptions,
  type MessageGroupOptions,
  type ProcessOptions,
  type SuiteOptions,
} from "./options.js";
export { publishRaw } from "./raw-publish.js";
export type {
  AsyncMatchers,
  Expect,
  Matchers,
  RunnerTestContext,
  TestFunction,
  TestRunner,
} from "./runner.js";
export { makeTestCertificates, type TestCertificates } from "./test-certificates.js";
export type { ConsumerError, Settle, TestKit } from "./test-kit.js";
// Waiting helpers, for backends' own tests too.
export { type Deferred, deferred, WaitTimeoutError, withTimeout } from "./wait-for.js";
