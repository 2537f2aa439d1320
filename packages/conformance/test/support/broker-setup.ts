import { provideBroker } from "../../src/provision/provide-broker.js";
import { rabbitmqRecipe } from "../../src/provision/rabbitmq.js";

/**
 * RabbitMQ for broken-faults.test.ts (the fault cases test themselves on the
 * amqplib backend), found or started in this package's own order; its URL
 * reaches the tests as CARROT_AMQP_URL.
 */
export default function setup(): Promise<() => Promise<void>> {
  return provideBroker(rabbitmqRecipe());
}
