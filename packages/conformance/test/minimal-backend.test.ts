import { MemoryBackend, MemoryBroker } from "@carrot/backend-memory";
import { Connection } from "@carrot/core";
import type { Capabilities } from "@carrot/core/backend";
import * as vitest from "vitest";
import { describeBackend } from "../src/index.js";

// The memory backend declares every capability, so on it the suite never
// takes its other branches. Here the same broker declares none of the
// optional ones: every such case must then prove the feature is refused
// (or skip, printing why), and the cases that prove absence without
// `ordering` fall back to their quiet periods. A small size limit checks
// that the size cases follow the declared number.
const MINIMAL = Object.freeze<Capabilities>({
  exchangeTypes: ["direct"],
  persistence: false,
  ordering: false,
  priority: false,
  messageTtl: false,
  deadLetter: false,
  maxLength: false,
  mandatory: false,
  exclusiveQueues: false,
  maxMessageSize: 1024,
  leases: false,
  messageGroups: false,
});

class MinimalMemoryBackend extends MemoryBackend {
  override readonly capabilities = MINIMAL;
}

const broker = new MemoryBroker();
describeBackend("memory declaring no optional capabilities", {
  runner: vitest,
  timeoutMs: 2000,
  connect: () => new Connection({ backend: new MinimalMemoryBackend({ broker }) }),
});
