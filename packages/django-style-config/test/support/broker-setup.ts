// From the sources, not "@carrot/conformance/provision": vitest loads global
// setup files through Node, without the "@carrot/source" condition, so the
// package would resolve to its build, which a fresh checkout does not have
// before `pnpm build`.
import { provideBroker, rabbitmqRecipe } from "../../../conformance/src/provision/index.js";

/**
 * RabbitMQ for rabbitmq.test.ts, in @carrot/conformance's order:
 * CARROT_AMQP_URL, a RabbitMQ on 127.0.0.1:5672, a container (with a Docker
 * engine), a node started from the local rabbitmq-server; its URL reaches the
 * test as CARROT_AMQP_URL. What was started is stopped after the run.
 */
export default function setup(): Promise<() => Promise<void>> {
  return provideBroker(rabbitmqRecipe());
}
