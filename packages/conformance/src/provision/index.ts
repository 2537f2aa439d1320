// @carrot/conformance/provision: a broker for the tests, found or started.

export type { Attempt, BrokerRecipe, RunningBroker, Way } from "./broker-recipe.js";
export { WAYS } from "./broker-recipe.js";
export { type Fauxqs, type FauxqsOptions, startFauxqs } from "./local-fauxqs.js";
export type { LocalProcess } from "./local-process.js";
export { answersAmqp, answersRedis, answersSqs } from "./protocol-probes.js";
export { provideBroker } from "./provide-broker.js";
export { type ProvisionedBroker, type ProvisionOptions, provision } from "./provision.js";
export { ProvisionError } from "./provision-error.js";
export { type RabbitMQRecipeOptions, rabbitmqRecipe } from "./rabbitmq.js";
export { type RedisRecipeOptions, redisRecipe } from "./redis.js";
export { type SqsRecipeOptions, sqsRecipe } from "./sqs.js";
