import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { freePort } from "../src/free-port.js";
import type { BrokerRecipe } from "../src/provision/broker-recipe.js";
import { answersAmqp, answersRedis, answersSqs } from "../src/provision/protocol-probes.js";
import { type ProvisionedBroker, provision } from "../src/provision/provision.js";
import { rabbitmqRecipe } from "../src/provision/rabbitmq.js";
import { redisRecipe } from "../src/provision/redis.js";

// The real recipes, with nothing set and nothing on the default port (a free
// one stands in for it): on a machine with a Docker engine the container way
// is taken; without one, that is said and the local binaries are started
// into a temporary folder on a free port, and stopped again.

/** Whether testcontainers finds a Docker engine here, asked independently of provisioning. */
async function dockerEngine(): Promise<boolean> {
  const { getContainerRuntimeClient } = await import("testcontainers");
  return getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
}

async function provisionBeyondDefaults(
  recipe: (options: { defaultUrl: string }) => BrokerRecipe,
  scheme: string,
): Promise<ProvisionedBroker> {
  const broker = await provision(
    recipe({ defaultUrl: `${scheme}://127.0.0.1:${await freePort()}` }),
    { env: {} },
  );
  if (await dockerEngine()) {
    expect(broker.way).toBe("container");
  } else {
    expect(broker.way).toBe("local-binary");
    expect(broker.passedOver.at(-1)).toMatch(
      /^a container through testcontainers: no Docker engine is reachable/,
    );
  }
  return broker;
}

/** The temporary folder named at the end of a local broker's detail. */
function folderOf(broker: ProvisionedBroker): string | undefined {
  return / in (\S+)$/.exec(broker.detail)?.[1];
}

describe("provision with the real brokers", () => {
  // A start on a loaded 2-core machine: redis-server takes well under a
  // second, RabbitMQ about ten; a container's image may have to be pulled.
  it("Redis: starts one, which answers PING but not AMQP, and stops it and removes its folder", {
    timeout: 120_000,
  }, async () => {
    const broker = await provisionBeyondDefaults(redisRecipe, "redis");
    try {
      expect(await answersRedis(broker.url)).toBeUndefined();
      expect(await answersAmqp(broker.url)).toMatch(/no answer|does not speak AMQP|closed/);
    } finally {
      await broker.stop();
    }
    expect(await answersRedis(broker.url)).toMatch(/nothing answers there/);
    const folder = folderOf(broker);
    if (broker.way === "local-binary") expect(folder && existsSync(folder)).toBe(false);
  });

  it("RabbitMQ: starts a node of its own, which answers AMQP, and stops it", {
    timeout: 240_000,
  }, async () => {
    const broker = await provisionBeyondDefaults(rabbitmqRecipe, "amqp");
    try {
      expect(await answersAmqp(broker.url)).toBeUndefined();
      expect(await answersRedis(broker.url)).toMatch(
        /no answer|does not answer Redis's PING|closed/,
      );
    } finally {
      await broker.stop();
    }
    expect(await answersAmqp(broker.url)).toMatch(/nothing answers there/);
  });
});

describe("the SQS probe", () => {
  it("takes an HTTP server that is not SQS for what it is", async () => {
    const server = createServer((_request, response) => response.writeHead(404).end("no"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      expect(await answersSqs(`http://127.0.0.1:${port}`)).toBe(
        "something answers there, but not as SQS (HTTP 404 to ListQueues)",
      );
    } finally {
      server.close();
    }
    expect(await answersSqs(`http://127.0.0.1:${port}`)).toMatch(/nothing answers there/);
  });
});
