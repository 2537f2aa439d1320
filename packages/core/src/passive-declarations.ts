import type { Backend } from "./contract.js";
import { UnsupportedFeatureError } from "./errors.js";

/**
 * A passive declaration of a queue: asserts that it exists and creates
 * nothing, so that a misspelt name fails at once with `NotFoundError`
 * instead of making an empty queue that nothing is ever sent to.
 */
export async function assertQueueExists(backend: Backend, name: string): Promise<void> {
  if (!backend.checkQueue) throw cannotCheck(backend.name, `queue '${name}'`);
  await backend.checkQueue(name);
}

/** A passive declaration of an exchange; the default exchange ("") always exists. */
export async function assertExchangeExists(backend: Backend, name: string): Promise<void> {
  if (name === "") return;
  if (!backend.checkExchange) throw cannotCheck(backend.name, `exchange '${name}'`);
  await backend.checkExchange(name);
}

/** Refused rather than declared: a passive declaration that created what it checks would hide the misspelling. */
function cannotCheck(backend: string, what: string): UnsupportedFeatureError {
  return new UnsupportedFeatureError(
    `the ${backend} backend does not support passive declarations: it cannot tell whether ${what} exists without creating it. Declare it (without passive), or leave the topology to your infrastructure with declare: false`,
  );
}
