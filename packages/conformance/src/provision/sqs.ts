import type { BrokerRecipe } from "./broker-recipe.js";
import { inContainer } from "./containers.js";
import { locateFauxqs, startFauxqs } from "./local-fauxqs.js";
import { answersSqs } from "./protocol-probes.js";

/** Where to look for an SQS, and which one to start. */
export interface SqsRecipeOptions {
  /** Where a running SQS is looked for; `http://127.0.0.1:4566` (fauxqs's and LocalStack's port) by default. */
  defaultUrl?: string;
  /** The container image; fauxqs's own, `kibertoad/fauxqs:latest`, by default: the same emulator as the local way. */
  image?: string;
  /** The folder whose node_modules hold fauxqs (see {@link startFauxqs}); the working directory by default. */
  from?: string;
}

/** The port fauxqs listens on in its image. */
const FAUXQS_PORT = 4566;

/**
 * SQS for the tests: `CARROT_SQS_ENDPOINT`, port 4566, fauxqs's image through
 * testcontainers, or fauxqs started from node_modules. The container and the
 * local way run the same emulator, so the tests meet the same SQS either way.
 */
export function sqsRecipe(options: SqsRecipeOptions = {}): BrokerRecipe {
  const image = options.image ?? "kibertoad/fauxqs:latest";
  return {
    name: "SQS",
    envVar: "CARROT_SQS_ENDPOINT",
    defaultUrl: options.defaultUrl ?? `http://127.0.0.1:${FAUXQS_PORT}`,
    answers: answersSqs,
    install:
      "install the fauxqs emulator (npm install --save-dev fauxqs, and node@22 if Node is older than 22.5)",
    container: () =>
      inContainer(
        "testcontainers",
        () => import("testcontainers"),
        async ({ GenericContainer, Wait }) => {
          const started = await new GenericContainer(image)
            .withExposedPorts(FAUXQS_PORT)
            .withWaitStrategy(Wait.forHttp("/health", FAUXQS_PORT))
            .start();
          return {
            url: `http://${started.getHost()}:${started.getMappedPort(FAUXQS_PORT)}`,
            detail: `container ${image}`,
            stop: async () => void (await started.stop()),
          };
        },
      ),
    localBinary: async () => {
      const from = options.from ?? process.cwd();
      const found = locateFauxqs(from);
      if ("missing" in found) return { skipped: found.missing };
      const fauxqs = await startFauxqs({ from });
      return {
        url: fauxqs.endpoint,
        detail: `fauxqs (pid ${fauxqs.pid})`,
        stop: () => fauxqs.stop(),
      };
    },
  };
}
