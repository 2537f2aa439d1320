import type { BrokerRecipe } from "./broker-recipe.js";
import { inContainer } from "./containers.js";
import { startLocalRabbitMQ } from "./local-rabbitmq.js";
import { answersAmqp } from "./protocol-probes.js";

/** Where to look for a RabbitMQ, and which one to start. */
export interface RabbitMQRecipeOptions {
  /** Where a running RabbitMQ is looked for; `amqp://guest:guest@127.0.0.1:5672` by default. */
  defaultUrl?: string;
  /** The container image; `rabbitmq:3.13-alpine` by default (3.x: the suite uses classic and quorum queues). */
  image?: string;
}

/** RabbitMQ for the tests: `CARROT_AMQP_URL`, port 5672, `@testcontainers/rabbitmq`, or `rabbitmq-server`. */
export function rabbitmqRecipe(options: RabbitMQRecipeOptions = {}): BrokerRecipe {
  const image = options.image ?? "rabbitmq:3.13-alpine";
  return {
    name: "RabbitMQ",
    envVar: "CARROT_AMQP_URL",
    defaultUrl: options.defaultUrl ?? "amqp://guest:guest@127.0.0.1:5672",
    answers: answersAmqp,
    install:
      "install RabbitMQ, whose rabbitmq-server is started here (apt-get install rabbitmq-server; brew install rabbitmq)",
    container: () =>
      inContainer(
        "testcontainers @testcontainers/rabbitmq",
        () => import("@testcontainers/rabbitmq"),
        async ({ RabbitMQContainer }) => {
          const started = await new RabbitMQContainer(image).start();
          return {
            url: started.getAmqpUrl(),
            detail: `container ${image}`,
            stop: async () => void (await started.stop()),
          };
        },
      ),
    localBinary: startLocalRabbitMQ,
  };
}
