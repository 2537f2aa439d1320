import { describe, expect, it } from "vitest";
import { ConflictingSettingsError, DjangoAMQPConnection, resolveSettings } from "../src/index.js";
import { settingsFailure } from "./support/settings-failure.js";

// A user name with no password is a token, and a query parameter named as a
// credential holds one: neither is shown, as passwords are not.

const TOKEN = "t0ken-as-user-name";

const inEnvironment = (values: Record<string, unknown>) =>
  resolveSettings([{ name: "the environment", values }]);

describe("tokens never appear in settings errors", () => {
  it("a BROKER_USER that differs from a URL's lone user name (a token)", async () => {
    const error = await settingsFailure(() =>
      inEnvironment({ BROKER_URL: `amqp://${TOKEN}@rabbit/`, BROKER_USER: "someone" }),
    );
    expect(error).toBeInstanceOf(ConflictingSettingsError);
    expect(error.message).toContain("differs from the user in BROKER_URL");
    expect(error.message).toContain("amqp://***@rabbit/");
    expect(error.message).not.toContain(TOKEN);
  });

  it("a conflict beside a URL with a secret query parameter", async () => {
    const error = await settingsFailure(() =>
      inEnvironment({ BROKER_URL: `redis://cache/0?token=${TOKEN}`, BROKER_HOST: "other" }),
    );
    expect(error.message).toContain("redis://cache/0?token=***");
    expect(error.message).not.toContain(TOKEN);
  });

  it("a connection made from such a URL does not show it", () => {
    const connection = new DjangoAMQPConnection(undefined, {
      env: { BROKER_URL: `amqp://${TOKEN}@rabbit/` },
      settingsModule: false,
    });
    expect(String(connection)).not.toContain(TOKEN);
  });
});
