import { describe, expect, it } from "vitest";
import {
  connectionFromSettings,
  DjangoAMQPConnection,
  loadSettingsSources,
  resolveSettings,
} from "../src/index.js";
import { settingsDir } from "./support/settings-dir.js";
import { settingsFailure } from "./support/settings-failure.js";

// Every error that could hold a password, checked for it: the message, the
// settings named, and the cause that carrot itself builds.

const SECRET = "s3cret-pw";

const scenarios: Record<string, () => unknown> = {
  "BROKER_PASSWORD conflicting with BROKER_URL's password": () =>
    resolveSettings([
      { name: "the environment", values: { BROKER_PASSWORD: SECRET } },
      { name: "settings module m", values: { BROKER_URL: "amqp://u:other@h/" } },
    ]),
  "BROKER_HOST conflicting with a URL that holds a password": () =>
    resolveSettings([
      {
        name: "the environment",
        values: { BROKER_HOST: "a", BROKER_URL: `amqp://u:${SECRET}@b/` },
      },
    ]),
  "CARROT_BACKEND conflicting with a URL that holds a password": () =>
    resolveSettings([
      {
        name: "the environment",
        values: { CARROT_BACKEND: "redis", BROKER_URL: `amqp://u:${SECRET}@b/` },
      },
    ]),
  "a URL in AMQP_SERVER": () =>
    resolveSettings([
      { name: "the environment", values: { AMQP_SERVER: `amqp://u:${SECRET}@rabbit/` } },
    ]),
  "an unparsable BROKER_URL": () =>
    resolveSettings([
      { name: "the environment", values: { BROKER_URL: `amqp://u:${SECRET}@ra bbit/` } },
    ]),
  "a bad escape in BROKER_URL's password": () =>
    resolveSettings([
      { name: "the environment", values: { BROKER_URL: `amqp://u:${SECRET}%zz@rabbit/` } },
    ]),
  "a URL whose scheme no backend serves": () =>
    new DjangoAMQPConnection(undefined, {
      env: { BROKER_URL: `nonesuch://u:${SECRET}@h` },
      settingsModule: false,
    }),
  "a bad port beside a password": () =>
    resolveSettings([
      { name: "the environment", values: { BROKER_PASSWORD: SECRET, BROKER_PORT: "x" } },
    ]),
  "invalid JSON around the password": () =>
    loadSettingsSources({
      cwd: settingsDir({ "carrot.settings.json": `{ "BROKER_PASSWORD": ${SECRET} }` }),
      env: {},
    }),
  "invalid JSON after the password": () =>
    connectionFromSettings({
      cwd: settingsDir({ "carrot.settings.json": `{ "BROKER_PASSWORD": "${SECRET}", }` }),
      env: {},
    }),
};

describe("passwords never appear in errors", () => {
  it.each(Object.entries(scenarios))("%s", async (_, scenario) => {
    const error = await settingsFailure(scenario);
    const cause =
      error.cause instanceof Error
        ? `${error.cause.message} ${String((error.cause as { input?: string }).input)}`
        : "";
    expect(`${error.message} ${JSON.stringify(error.settings)} ${cause}`).not.toContain(SECRET);
  });
});
