// From the sources, not "@carrot/conformance/provision": vitest loads global
// setup files through Node, without the "@carrot/source" condition (see
// packages/backend-amqplib/test/support/broker-setup.ts).
import { provideBroker, rabbitmqRecipe } from "../../packages/conformance/src/provision/index.js";

/** RabbitMQ for the two-process example, found or started as @carrot/conformance/provision says. */
export default function setup(): Promise<() => Promise<void>> {
  return provideBroker(rabbitmqRecipe());
}
