import { fileURLToPath } from "node:url";
// From the sources, not "@carrot/conformance/provision": vitest loads global
// setup files through Node, without the "@carrot/source" condition (see
// packages/backend-amqplib/test/support/broker-setup.ts).
import {
  provideBroker,
  rabbitmqRecipe,
  redisRecipe,
  sqsRecipe,
} from "../../packages/conformance/src/provision/index.js";

/** Where fauxqs is installed: a dev dependency of the SQS backend. */
const sqsPackage = fileURLToPath(new URL("../../packages/backend-sqs", import.meta.url));

/**
 * RabbitMQ, Redis and SQS for the examples and the multi-broker tests, each
 * found or started as @carrot/conformance/provision says; their URLs reach
 * the tests, and the processes they start, as CARROT_AMQP_URL,
 * CARROT_REDIS_URL and CARROT_SQS_ENDPOINT.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // The SDK's default provider chain reads these; the emulator accepts any.
  process.env.AWS_ACCESS_KEY_ID ??= "carrot-test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "carrot-test";
  process.env.AWS_REGION ??= "us-east-1";
  const teardowns = [
    await provideBroker(rabbitmqRecipe()),
    await provideBroker(redisRecipe()),
    await provideBroker(sqsRecipe({ from: sqsPackage })),
  ];
  return async () => {
    for (const teardown of teardowns.reverse()) await teardown();
  };
}
