import { randomBytes } from "node:crypto";

/** The four backends the bridge is tested between. */
export const BROKERS = ["memory", "rabbitmq", "redis", "sqs"] as const;
/** One of {@link BROKERS}. */
export type Broker = (typeof BROKERS)[number];

/** Every ordered pair of two different brokers: [from, to]. */
export const PAIRS: [Broker, Broker][] = BROKERS.flatMap((from) =>
  BROKERS.filter((to) => to !== from).map((to): [Broker, Broker] => [from, to]),
);

/** This run's own: the memory broker's name, Redis's key prefix, SQS's queue prefix. */
const RUN = randomBytes(4).toString("hex");

function required(variable: string): string {
  const value = process.env[variable];
  if (!value)
    throw new Error(
      `${variable} is not set: run these tests through vitest, whose global setup finds or starts the brokers`,
    );
  return value;
}

/**
 * The URL of `broker` for this run. Leases are short (Redis reclaims after
 * 2 s, SQS after 5 s) so that messages a killed process held come back
 * within a test's waits; SQS refreshes its bindings every 100 ms, so that a
 * publisher on another connection routes by a binding just made.
 */
export function urlOf(broker: Broker): string {
  switch (broker) {
    case "memory":
      return `memory://mb-${RUN}`;
    case "rabbitmq":
      return required("CARROT_AMQP_URL");
    case "redis": {
      const url = new URL(required("CARROT_REDIS_URL"));
      url.searchParams.set("prefix", `mb-${RUN}`);
      url.searchParams.set("visibilityTimeout", "2000");
      url.searchParams.set("claimInterval", "200");
      return url.href;
    }
    case "sqs": {
      const query = new URLSearchParams({
        endpoint: required("CARROT_SQS_ENDPOINT"),
        region: "us-east-1",
        prefix: `mb${RUN}-`,
        waitTimeSeconds: "1",
        bindingRefresh: "100",
        visibilityTimeout: "5",
      });
      return `sqs://?${query}`;
    }
  }
}

/**
 * A name no other test uses, within [a-z0-9-] so that every broker takes it
 * as it is (SQS: 80 characters of [A-Za-z0-9_-], with the prefix).
 */
export function uniqueName(what: string): string {
  return `mb-${randomBytes(4).toString("hex")}-${what}`.slice(0, 48);
}
