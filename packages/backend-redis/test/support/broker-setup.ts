// From the sources, not "@carrot/conformance/provision": vitest loads global
// setup files through Node, without the "@carrot/source" condition, so the
// package would resolve to its build, which a fresh checkout does not have
// before `pnpm build`.
import { provideBroker, redisRecipe } from "../../../conformance/src/provision/index.js";

/**
 * Redis for the run, in @carrot/conformance's order: CARROT_REDIS_URL, a
 * Redis on 127.0.0.1:6379, a container (with a Docker engine), a
 * redis-server started from the local binary; its URL reaches the tests as
 * CARROT_REDIS_URL. What was started is stopped after the run.
 */
export default function setup(): Promise<() => Promise<void>> {
  return provideBroker(redisRecipe());
}
