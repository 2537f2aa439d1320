import type { BrokerRecipe } from "./broker-recipe.js";
import { type ProvisionOptions, provision } from "./provision.js";

/**
 * For a test runner's global setup: provisions `recipe`'s broker, puts its
 * URL in the recipe's variable (`CARROT_AMQP_URL`, ...) of this process, which
 * the test workers and the processes they start inherit, and says on the
 * console which way was taken. Resolves with the teardown, which stops what
 * was started and clears the variable it set.
 *
 * With several setups for one broker in a run (one per package), the first
 * sets the variable and the others take it from there, so one broker serves all.
 */
export async function provideBroker(
  recipe: BrokerRecipe,
  options: ProvisionOptions = {},
): Promise<() => Promise<void>> {
  const env = options.env ?? process.env;
  const broker = await provision(recipe, { env });
  const passedOver =
    broker.passedOver.length > 0 ? `; passed over: ${broker.passedOver.join("; ")}` : "";
  console.log(
    `carrot: ${broker.broker} for the tests at ${broker.url} (${broker.way}: ${broker.detail}${passedOver})`,
  );
  if (broker.way === "environment") return async () => undefined;
  process.env[recipe.envVar] = broker.url;
  return async () => {
    delete process.env[recipe.envVar];
    await broker.stop();
  };
}
