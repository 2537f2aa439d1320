import type { Attempt, RunningBroker } from "./broker-recipe.js";

/**
 * Starts a broker through testcontainers, which is an optional peer
 * dependency: it is imported here only, when this way is tried, so that a
 * backend author who has the brokers running never installs it (it brings a
 * Docker client, tar and compression libraries: several megabytes).
 * `load` imports the broker's module (`@testcontainers/redis`, ...);
 * `packages` names what to install. Without testcontainers, or without a
 * reachable Docker engine (the socket, DOCKER_HOST, or what
 * ~/.testcontainers.properties names), the way is passed over, saying which.
 */
export async function inContainer<M>(
  packages: string,
  load: () => Promise<M>,
  start: (module: M) => Promise<RunningBroker>,
): Promise<Attempt> {
  let testcontainers: typeof import("testcontainers");
  let module: M;
  try {
    testcontainers = await import("testcontainers");
    module = await load();
  } catch (error) {
    if (!isMissingModule(error)) throw error;
    return { skipped: `testcontainers is not installed (npm install --save-dev ${packages})` };
  }
  try {
    await testcontainers.getContainerRuntimeClient();
  } catch (error) {
    return {
      skipped: `no Docker engine is reachable (testcontainers: ${(error as Error).message})`,
    };
  }
  return start(module);
}

function isMissingModule(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}
