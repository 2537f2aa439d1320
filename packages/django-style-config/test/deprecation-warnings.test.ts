import { afterEach, beforeEach, expect, it } from "vitest";
import { connectionFromSettings, DjangoAMQPConnection, SETTINGS } from "../src/index.js";

// Deprecated names warn once per process, as carrot warned: this file is
// its own process-wide state (vitest isolates test files), so no other test's
// warnings interfere.

const warnings: Error[] = [];
const collect = (warning: Error) => warnings.push(warning);
beforeEach(() => {
  warnings.length = 0;
  process.on("warning", collect);
});
afterEach(() => {
  process.off("warning", collect);
});

/** process.emitWarning delivers on the next tick. */
const delivered = () => new Promise((resolve) => setImmediate(resolve));

const values: Record<string, unknown> = {
  AMQP_HOST: "h",
  AMQP_SERVER: "h",
  AMQP_PORT: 5672,
  AMQP_USER: "u",
  AMQP_PASSWORD: "p",
  AMQP_VHOST: "v",
};
const deprecatedNames = SETTINGS.flatMap(({ name, deprecated }) =>
  deprecated.map((old) => [old, name] as const),
);

it("lists exactly carrot's deprecated names", () => {
  expect(deprecatedNames.map(([old]) => old).sort()).toEqual(Object.keys(values).sort());
});

it.each(deprecatedNames)("%s warns once, naming %s", async (old, replacement) => {
  const options = { settings: { [old]: values[old] }, env: {}, settingsModule: false } as const;
  new DjangoAMQPConnection(undefined, options);
  await connectionFromSettings(options);
  new DjangoAMQPConnection(undefined, options);
  await delivered();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({
    name: "DeprecationWarning",
    code: "CARROT_DEPRECATED_SETTING",
    message: `${old} (from the explicit settings) has been renamed to ${replacement}; carrot still reads ${old}, but rename it`,
  });
});

it("primary names never warn, nor does a deprecated name shadowed by its primary one", async () => {
  new DjangoAMQPConnection(undefined, {
    settings: {
      BROKER_HOST: "h",
      BROKER_PORT: 5672,
      BROKER_USER: "u",
      BROKER_PASSWORD: "p",
      BROKER_VHOST: "v",
    },
    env: {},
    settingsModule: false,
  });
  await delivered();
  expect(warnings).toEqual([]);
});
