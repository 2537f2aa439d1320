import {
  type Attempt,
  type BrokerRecipe,
  type RunningBroker,
  WAYS,
  type Way,
} from "./broker-recipe.js";
import { ProvisionError } from "./provision-error.js";

/** A broker for the tests, and which of the four ways gave it. */
export interface ProvisionedBroker extends RunningBroker {
  /** The broker's name: "RabbitMQ", "Redis", "SQS". */
  readonly broker: string;
  /** The way taken. */
  readonly way: Way;
  /** Why each way before it was passed over, one line each. */
  readonly passedOver: readonly string[];
}

/** Where provisioning looks. */
export interface ProvisionOptions {
  /** The variables to read the `CARROT_*` URL from; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
}

const WAY_TITLES: Record<Way, (recipe: BrokerRecipe) => string> = {
  environment: (recipe) => recipe.envVar,
  "default-port": (recipe) => `already listening on ${recipe.defaultUrl}`,
  container: () => "a container through testcontainers",
  "local-binary": () => "the local binaries in a temporary folder",
};

/**
 * Finds or starts `recipe`'s broker, trying in order: the recipe's variable;
 * a broker already answering its protocol at the default URL; a container
 * through testcontainers; the local binaries. A way that fails (its start
 * broke, say) is passed over like one that does not apply. When none gives a
 * broker, a ProvisionError names all four and why each did not.
 */
export async function provision(
  recipe: BrokerRecipe,
  options: ProvisionOptions = {},
): Promise<ProvisionedBroker> {
  const env = options.env ?? process.env;
  const passedOver: string[] = [];
  for (const way of WAYS) {
    let attempt: Attempt;
    try {
      attempt = await tryWay(recipe, way, env);
    } catch (error) {
      attempt = { skipped: `failed: ${(error as Error).message}` };
    }
    if (!("skipped" in attempt)) return { ...attempt, broker: recipe.name, way, passedOver };
    passedOver.push(`${WAY_TITLES[way](recipe)}: ${attempt.skipped}`);
  }
  const tried = passedOver.map((line, index) => `  ${index + 1}. ${line}`).join("\n");
  throw new ProvisionError(
    `no ${recipe.name} for the tests. Tried, in order:\n${tried}\n` +
      `Give it one: set ${recipe.envVar} to a running ${recipe.name}; start one on ${recipe.defaultUrl}; ` +
      `start a Docker engine (testcontainers then starts one); or ${recipe.install}.`,
  );
}

async function tryWay(
  recipe: BrokerRecipe,
  way: Way,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Attempt> {
  switch (way) {
    case "environment": {
      const url = env[recipe.envVar];
      if (!url) return { skipped: "not set" };
      return found(url, `from ${recipe.envVar}`);
    }
    case "default-port": {
      const why = await recipe.answers(recipe.defaultUrl);
      return why === undefined ? found(recipe.defaultUrl, "found running") : { skipped: why };
    }
    case "container":
      return recipe.container();
    case "local-binary":
      return recipe.localBinary();
  }
}

/** A broker that was there already: the tests use it and leave it running. */
function found(url: string, detail: string): RunningBroker {
  return { url, detail, stop: async () => undefined };
}
