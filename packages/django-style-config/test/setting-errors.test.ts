import { UnknownSchemeError } from "@carrot/core";
import { describe, expect, it } from "vitest";
import {
  connectionFromSettings,
  DjangoAMQPConnection,
  InvalidSettingError,
  resolveSettings,
  UnknownBackendError,
} from "../src/index.js";
import { settingsFailure } from "./support/settings-failure.js";

// Every value error: typed, naming the setting and where it came from, and
// never showing a password.

const fromEnv = (values: Record<string, unknown>) => () =>
  resolveSettings([{ name: "the environment", values }]);
const fromModule = (values: Record<string, unknown>) => () =>
  resolveSettings([{ name: "settings module /app/carrot.settings.js", values }]);

describe("InvalidSettingError", () => {
  const cases = [
    {
      name: "a port that is not a number",
      run: fromEnv({ BROKER_PORT: "abc" }),
      text: 'BROKER_PORT (from the environment) must be a port number from 1 to 65535, got "abc"',
    },
    {
      name: "a port with trailing text",
      run: fromEnv({ AMQP_PORT: "5672x" }),
      text: 'AMQP_PORT (from the environment) must be a port number from 1 to 65535, got "5672x"',
    },
    { name: "port 0", run: fromModule({ BROKER_PORT: 0 }), text: "got 0" },
    { name: "a port above 65535", run: fromModule({ BROKER_PORT: 70000 }), text: "got 70000" },
    { name: "a fractional port", run: fromModule({ BROKER_PORT: 56.5 }), text: "got 56.5" },
    { name: "a boolean port", run: fromModule({ BROKER_PORT: true }), text: "got boolean" },
    {
      name: "a host of the wrong type",
      run: fromModule({ BROKER_HOST: 42 }),
      text: "BROKER_HOST (from settings module /app/carrot.settings.js) must be a string, got number",
    },
    {
      name: "a user of the wrong type",
      run: fromModule({ AMQP_USER: ["a"] }),
      text: "AMQP_USER (from settings module /app/carrot.settings.js) must be a string, got an array",
    },
    {
      name: "a vhost of the wrong type",
      run: fromModule({ BROKER_VHOST: 0 }),
      text: "BROKER_VHOST (from settings module /app/carrot.settings.js) must be a string, got number",
    },
    {
      name: "a password of the wrong type",
      run: fromModule({ BROKER_PASSWORD: 12345 }),
      text: "BROKER_PASSWORD (from settings module /app/carrot.settings.js) must be a string, got number",
    },
    {
      name: "a backend of the wrong type",
      run: fromModule({ CARROT_BACKEND: {} }),
      text: "CARROT_BACKEND (from settings module /app/carrot.settings.js) must be a string, got object",
    },
    {
      name: "an SSL flag that is not a boolean",
      run: fromEnv({ BROKER_USE_SSL: "maybe" }),
      text: 'BROKER_USE_SSL (from the environment) must be true or false (or "1"/"0", "yes"/"no", "on"/"off"), or an object of TLS options, got "maybe"',
    },
    {
      name: "an SSL flag that is a number",
      run: fromModule({ BROKER_USE_SSL: 1 }),
      text: "got number",
    },
    {
      name: "a timeout that is not a number",
      run: fromEnv({ BROKER_CONNECTION_TIMEOUT: "soon" }),
      text: 'BROKER_CONNECTION_TIMEOUT (from the environment) must be a number of seconds greater than 0, got "soon"',
    },
    { name: "a zero timeout", run: fromModule({ BROKER_CONNECTION_TIMEOUT: 0 }), text: "got 0" },
    {
      name: "an empty timeout in a module",
      run: fromModule({ BROKER_CONNECTION_TIMEOUT: " " }),
      text: 'got " "',
    },
    {
      name: "a URL that is not a URL",
      run: fromEnv({ BROKER_URL: "rabbit.example.com" }),
      text: "BROKER_URL (from the environment) must be a URL such as amqp://user:password@host:5672/vhost, got (unparsable URL)",
    },
    {
      name: "a URL with a bad escape",
      run: fromEnv({ BROKER_URL: "amqp://u:%zz@rabbit" }),
      text: "BROKER_URL (from the environment) holds invalid percent-encoding",
    },
  ];

  it.each(cases)("$name", async ({ run, text }) => {
    const error = await settingsFailure(run);
    expect(error).toBeInstanceOf(InvalidSettingError);
    expect(error).toMatchObject({
      code: "ERR_CARROT_INVALID_SETTING",
      name: "InvalidSettingError",
    });
    expect(error.message).toContain(text);
    expect(error.settings).toHaveLength(1);
  });

  it("names the setting and source as data too", async () => {
    expect((await settingsFailure(fromEnv({ AMQP_PORT: "x" }))).settings).toEqual([
      { setting: "AMQP_PORT", source: "the environment" },
    ]);
  });

  it("a host that is a URL (some tools use AMQP_SERVER for one) is refused without echoing it", async () => {
    const error = await settingsFailure(
      fromEnv({ AMQP_SERVER: "amqp://feeds:s3cret@rabbit:5672/" }),
    );
    expect(error.message).toContain(
      "AMQP_SERVER (from the environment) must be a host name such as rabbit.example.com",
    );
    expect(error.message).toContain("put a whole URL in BROKER_URL");
    expect(error.message).not.toContain("s3cret");
  });

  it("an unparsable URL is shown by its scheme only, with no cause that could hold it", async () => {
    const error = await settingsFailure(fromEnv({ BROKER_URL: "amqp://feeds:s3cret@rab bit" }));
    expect(error.message).toContain("got amqp://(unparsable URL)");
    expect(error.message).not.toContain("s3cret");
    expect(error.cause).toBeUndefined();
  });

  it("a port argument merged into a settings URL is checked as core would", async () => {
    const run = () =>
      resolveSettings([{ name: "the environment", values: { BROKER_URL: "amqp://rabbit" } }], {
        port: 0,
      });
    expect((await settingsFailure(run)).message).toContain(
      "port (from the arguments) must be a port number",
    );
  });

  it("an explicit settings object that is not an object", async () => {
    const error = await settingsFailure(
      () =>
        new DjangoAMQPConnection(undefined, {
          settings: [] as never,
          env: {},
          settingsModule: false,
        }),
    );
    expect(error).toBeInstanceOf(InvalidSettingError);
    expect(error.message).toContain("settings must be an object of settings by name");
  });
});

describe("UnknownBackendError", () => {
  const cases = [
    {
      backend: "carrot.backends.nonesuch.Backend",
      text: "names no backend carrot knows: 'carrot.backends.nonesuch.Backend'",
    },
    { backend: "not a backend!", text: "names no backend carrot knows: 'not a backend!'" },
    {
      backend: "stomp",
      text: "is 'stomp', carrot's STOMP backend, which carrot for TypeScript does not have",
    },
    {
      backend: "carrot.backends.pystomp.Backend",
      text: "is 'carrot.backends.pystomp.Backend', carrot's STOMP backend",
    },
  ];
  it.each(cases)("CARROT_BACKEND=$backend", async ({ backend, text }) => {
    const error = await settingsFailure(fromEnv({ CARROT_BACKEND: backend }));
    expect(error).toBeInstanceOf(UnknownBackendError);
    expect(error).toMatchObject({
      code: "ERR_CARROT_UNKNOWN_BACKEND",
      name: "UnknownBackendError",
    });
    expect(error.message).toContain(`CARROT_BACKEND (from the environment) ${text}`);
    expect(error.settings).toEqual([{ setting: "CARROT_BACKEND", source: "the environment" }]);
  });

  it("a scheme no backend serves (nor any registered one) names CARROT_BACKEND, keeping core's error as the cause", async () => {
    const options = { env: { CARROT_BACKEND: "nonesuch" }, settingsModule: false } as const;
    const error = await settingsFailure(() => new DjangoAMQPConnection(undefined, options));
    expect(error).toBeInstanceOf(UnknownBackendError);
    expect(error.message).toContain(
      "CARROT_BACKEND (from the environment) names no backend carrot knows: 'nonesuch'",
    );
    expect(error.cause).toBeInstanceOf(UnknownSchemeError);
    await expect(connectionFromSettings(options)).rejects.toBeInstanceOf(UnknownBackendError);
  });

  it("so does BROKER_URL's scheme, never showing the URL's password", async () => {
    const options = {
      env: { BROKER_URL: "nonesuch://u:s3cret@host" },
      settingsModule: false,
    } as const;
    const error = await settingsFailure(() => connectionFromSettings(options));
    expect(error).toBeInstanceOf(UnknownBackendError);
    expect(error.message).toContain(
      "BROKER_URL (from the environment) names no backend carrot knows: 'nonesuch'",
    );
    expect(error.message).not.toContain("s3cret");
  });
});
