import { fileURLToPath } from "node:url";
// From the sources, not "@carrot/conformance/provision": vitest loads global
// setup files through Node, without the "@carrot/source" condition, so the
// package would resolve to its build, which a fresh checkout does not have
// before `pnpm build`.
import {
  type Fauxqs,
  provideBroker,
  sqsRecipe,
  startFauxqs,
} from "../../conformance/src/provision/index.js";

/**
 * SQS for the run, in @carrot/conformance's order: CARROT_SQS_ENDPOINT (a
 * LocalStack, an ElasticMQ, a real region's endpoint), an SQS on
 * 127.0.0.1:4566, fauxqs's image in a container (with a Docker engine), or
 * the fauxqs emulator of this package's dev dependencies, started on a free
 * port on the Node 22 binary of the `node` dev dependency when the tests run
 * on an older Node (fauxqs needs node:sqlite). The endpoint reaches the tests
 * as CARROT_SQS_ENDPOINT; what was started is stopped after the run.
 */
const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** The global setup; the benchmarks call it too. Resolves with the teardown. */
export default async function setup(): Promise<() => Promise<void>> {
  // The SDK's default provider chain reads these; the emulator accepts any.
  process.env.AWS_ACCESS_KEY_ID ??= "carrot-test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "carrot-test";
  process.env.AWS_REGION ??= "us-east-1";
  return provideBroker(sqsRecipe({ from: packageDir }));
}

/** A fauxqs the test started itself. */
export type Emulator = Fauxqs;

/**
 * One more fauxqs, for a test that kills and restarts its emulator: on a free
 * port unless `port` is given (a restart in place), in memory unless `dataDir`
 * keeps its state in SQLite (so that a restart finds its queues and messages).
 */
export function startEmulator(
  options: { port?: number; dataDir?: string } = {},
): Promise<Emulator> {
  return startFauxqs({ ...options, from: packageDir });
}
