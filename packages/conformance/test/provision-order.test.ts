import { afterEach, describe, expect, it } from "vitest";
import type { Attempt, BrokerRecipe } from "../src/provision/broker-recipe.js";
import { provideBroker } from "../src/provision/provide-broker.js";
import { provision } from "../src/provision/provision.js";
import { ProvisionError } from "../src/provision/provision-error.js";

// The order of the four ways, with every probe and start replaced by a fake
// that records being asked: which way is taken, what is never tried after it,
// and what the failure says when none gives a broker.

interface Fake {
  recipe: BrokerRecipe;
  /** The probes and starts asked, in order. */
  asked: string[];
  /** How many times a started broker was stopped. */
  stops: number;
}

function running(url: string): Attempt {
  return { url, detail: "fake", stop: async () => undefined };
}

function fakeRecipe(ways: {
  answers?: string | undefined;
  container?: Attempt | Error;
  localBinary?: Attempt | Error;
}): Fake {
  const fake: Fake = { asked: [], stops: 0, recipe: undefined as unknown as BrokerRecipe };
  const outcome = async (name: string, result: Attempt | Error | undefined): Promise<Attempt> => {
    fake.asked.push(name);
    if (result instanceof Error) throw result;
    if (!result) return { skipped: `no ${name}` };
    if ("skipped" in result) return result;
    return { ...result, stop: async () => void fake.stops++ };
  };
  fake.recipe = {
    name: "FakeMQ",
    envVar: "CARROT_FAKEMQ_URL",
    defaultUrl: "fake://127.0.0.1:1",
    install: "install fakemq-server",
    answers: async (url) => {
      fake.asked.push(`answers ${url}`);
      return "answers" in ways ? ways.answers : "nothing answers there";
    },
    container: () => outcome("container", ways.container),
    localBinary: () => outcome("localBinary", ways.localBinary),
  };
  return fake;
}

describe("provision: the order of the four ways", () => {
  it("1. takes the variable, and probes and starts nothing", async () => {
    const fake = fakeRecipe({ answers: undefined });
    const broker = await provision(fake.recipe, {
      env: { CARROT_FAKEMQ_URL: "fake://elsewhere:9" },
    });
    expect(broker).toMatchObject({ way: "environment", url: "fake://elsewhere:9", passedOver: [] });
    expect(fake.asked).toEqual([]);
  });

  it("2. without the variable, takes a broker that answers its protocol on the default port", async () => {
    const fake = fakeRecipe({ answers: undefined, container: running("fake://container") });
    const broker = await provision(fake.recipe, { env: {} });
    expect(broker).toMatchObject({ way: "default-port", url: "fake://127.0.0.1:1" });
    expect(broker.passedOver).toEqual(["CARROT_FAKEMQ_URL: not set"]);
    expect(fake.asked).toEqual(["answers fake://127.0.0.1:1"]);
  });

  it("an empty variable counts as not set", async () => {
    const fake = fakeRecipe({ answers: undefined });
    const broker = await provision(fake.recipe, { env: { CARROT_FAKEMQ_URL: "" } });
    expect(broker.way).toBe("default-port");
  });

  it("3. when nothing answers there, starts a container", async () => {
    const fake = fakeRecipe({
      container: running("fake://container"),
      localBinary: running("fake://local"),
    });
    const broker = await provision(fake.recipe, { env: {} });
    expect(broker).toMatchObject({ way: "container", url: "fake://container" });
    expect(broker.passedOver).toEqual([
      "CARROT_FAKEMQ_URL: not set",
      "already listening on fake://127.0.0.1:1: nothing answers there",
    ]);
    expect(fake.asked).toEqual(["answers fake://127.0.0.1:1", "container"]);
  });

  it("4. without a Docker engine, starts the local binaries, saying why the container was passed over", async () => {
    const fake = fakeRecipe({
      container: { skipped: "no Docker engine is reachable" },
      localBinary: running("fake://local"),
    });
    const broker = await provision(fake.recipe, { env: {} });
    expect(broker).toMatchObject({ way: "local-binary", url: "fake://local" });
    expect(broker.passedOver.at(-1)).toBe(
      "a container through testcontainers: no Docker engine is reachable",
    );
    expect(fake.asked).toEqual(["answers fake://127.0.0.1:1", "container", "localBinary"]);
    await broker.stop();
    expect(fake.stops).toBe(1);
  });

  it("a way whose start fails is passed over with its error, and the next one is tried", async () => {
    const fake = fakeRecipe({
      container: new Error("image pull failed"),
      localBinary: running("fake://local"),
    });
    const broker = await provision(fake.recipe, { env: {} });
    expect(broker.way).toBe("local-binary");
    expect(broker.passedOver.at(-1)).toBe(
      "a container through testcontainers: failed: image pull failed",
    );
  });

  it("5. when no way gives a broker, fails naming the four ways, why each did not, and what to install", async () => {
    const fake = fakeRecipe({
      container: { skipped: "no Docker engine is reachable" },
      localBinary: { skipped: "fakemq-server is not installed" },
    });
    const failure = await provision(fake.recipe, { env: {} }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProvisionError);
    expect((failure as Error).message).toBe(
      [
        "no FakeMQ for the tests. Tried, in order:",
        "  1. CARROT_FAKEMQ_URL: not set",
        "  2. already listening on fake://127.0.0.1:1: nothing answers there",
        "  3. a container through testcontainers: no Docker engine is reachable",
        "  4. the local binaries in a temporary folder: fakemq-server is not installed",
        "Give it one: set CARROT_FAKEMQ_URL to a running FakeMQ; start one on fake://127.0.0.1:1; " +
          "start a Docker engine (testcontainers then starts one); or install fakemq-server.",
      ].join("\n"),
    );
  });
});

describe("provideBroker: a global setup's broker, handed to the tests through the variable", () => {
  afterEach(() => {
    delete process.env.CARROT_FAKEMQ_URL;
  });

  it("sets the variable for the workers, and the teardown stops the broker and clears it", async () => {
    const fake = fakeRecipe({ localBinary: running("fake://local") });
    const teardown = await provideBroker(fake.recipe, { env: {} });
    expect(process.env.CARROT_FAKEMQ_URL).toBe("fake://local");
    await teardown();
    expect(process.env.CARROT_FAKEMQ_URL).toBeUndefined();
    expect(fake.stops).toBe(1);
  });

  it("leaves a variable that was set alone: a second setup for the same broker reuses the first's", async () => {
    process.env.CARROT_FAKEMQ_URL = "fake://first-setup";
    const fake = fakeRecipe({ localBinary: running("fake://local") });
    const teardown = await provideBroker(fake.recipe);
    await teardown();
    expect(process.env.CARROT_FAKEMQ_URL).toBe("fake://first-setup");
    expect(fake.asked).toEqual([]);
  });
});
