import { describe, expect, it } from "vitest";
import {
  ARGUMENTS_SOURCE,
  ConflictingSettingsError,
  resolveSettings,
  SETTINGS,
  type SettingsSource,
} from "../src/index.js";
import { settingsFailure } from "./support/settings-failure.js";

// The pure resolver, on sources built by hand: every name, and every rule of
// precedence and agreement. Loading real files is in settings-sources.test.ts.

const source = (name: string, values: Record<string, unknown>): SettingsSource => ({
  name,
  values,
});
const resolve = (...sources: SettingsSource[]) => resolveSettings(sources);
const module = (values: Record<string, unknown>) =>
  source("settings module /app/carrot.settings.js", values);
const env = (values: Record<string, unknown>) => source("the environment", values);

/** A value each field's parser takes, and what it becomes. */
const SAMPLES = {
  url: ["amqp://rabbit.example.com", { url: "amqp://rabbit.example.com" }],
  backend: ["memory", { url: "memory://" }],
  hostname: ["rabbit.example.com", { hostname: "rabbit.example.com" }],
  port: [5673, { port: 5673 }],
  userid: ["feeds", { userid: "feeds" }],
  password: ["s3cret", { password: "s3cret" }],
  vhost: ["/feeds", { vhost: "/feeds" }],
  tls: [true, { tls: true }],
  connectTimeout: [2, { connectTimeout: 2000 }],
} as const;

describe("every setting name", () => {
  const rows = SETTINGS.flatMap(({ field, name, deprecated }) =>
    [name, ...deprecated].map((setting) => ({ field, setting, primary: name })),
  );

  it.each(rows)("$setting sets $field", ({ field, setting, primary }) => {
    const [value, options] = SAMPLES[field];
    const resolved = resolve(module({ [setting]: value }));
    expect(resolved.options).toEqual(options);
    expect(resolved.origins[field]).toEqual({
      setting,
      source: "settings module /app/carrot.settings.js",
    });
    expect(resolved.deprecated).toEqual(
      setting === primary
        ? []
        : [{ setting, replacement: primary, source: "settings module /app/carrot.settings.js" }],
    );
  });

  it("reads the seed's settings.py names (AMQP_SERVER...) as carrot did", () => {
    const resolved = resolve(
      module({
        AMQP_SERVER: "localhost",
        AMQP_PORT: 5672,
        AMQP_USER: "test",
        AMQP_PASSWORD: "secret",
        AMQP_VHOST: "/test",
      }),
    );
    expect(resolved.options).toEqual({
      hostname: "localhost",
      port: 5672,
      userid: "test",
      password: "secret",
      vhost: "/test",
    });
    expect(resolved.deprecated.map((d) => `${d.setting}->${d.replacement}`)).toEqual([
      "AMQP_SERVER->BROKER_HOST",
      "AMQP_PORT->BROKER_PORT",
      "AMQP_USER->BROKER_USER",
      "AMQP_PASSWORD->BROKER_PASSWORD",
      "AMQP_VHOST->BROKER_VHOST",
    ]);
  });

  it("ignores names that are not carrot's (a settings module holds other settings too)", () => {
    expect(resolve(module({ DATABASES: {}, BROKER_POOL_LIMIT: 10 })).options).toEqual({});
  });

  it("leaves every field to core's defaults when nothing is set", () => {
    expect(resolve()).toEqual({ options: {}, origins: {}, deprecated: [] });
  });
});

describe("primary and deprecated names", () => {
  it("the primary name wins over the deprecated ones in the same source, and the unused one is not reported", () => {
    const resolved = resolve(
      module({ AMQP_SERVER: "old", AMQP_HOST: "older", BROKER_HOST: "new" }),
    );
    expect(resolved.options.hostname).toBe("new");
    expect(resolved.deprecated).toEqual([]);
  });

  it("AMQP_HOST wins over AMQP_SERVER, as in carrot", () => {
    const resolved = resolve(module({ AMQP_SERVER: "server", AMQP_HOST: "host" }));
    expect(resolved.options.hostname).toBe("host");
    expect(resolved.origins.hostname?.setting).toBe("AMQP_HOST");
  });

  it("source precedence comes first: a deprecated name in a higher source beats the primary name in a lower one", () => {
    const resolved = resolve(
      env({ AMQP_USER: "from-env" }),
      module({ BROKER_USER: "from-module" }),
    );
    expect(resolved.options.userid).toBe("from-env");
    expect(resolved.origins.userid).toEqual({ setting: "AMQP_USER", source: "the environment" });
  });
});

describe("source precedence", () => {
  it("per setting, the first source that sets it wins; the others fill the rest", () => {
    const resolved = resolve(
      source("the explicit settings", { BROKER_HOST: "explicit" }),
      env({ BROKER_HOST: "env", BROKER_PORT: "5673" }),
      module({ BROKER_HOST: "module", BROKER_PORT: 5674, BROKER_VHOST: "v" }),
    );
    expect(resolved.options).toEqual({ hostname: "explicit", port: 5673, vhost: "v" });
    expect(resolved.origins).toEqual({
      hostname: { setting: "BROKER_HOST", source: "the explicit settings" },
      port: { setting: "BROKER_PORT", source: "the environment" },
      vhost: { setting: "BROKER_VHOST", source: "settings module /app/carrot.settings.js" },
    });
  });

  it("undefined and null count as unset, so a lower source shows through", () => {
    const resolved = resolve(
      env({ BROKER_HOST: undefined, BROKER_PORT: null }),
      module({ BROKER_HOST: "m", BROKER_PORT: 1 }),
    );
    expect(resolved.options).toEqual({ hostname: "m", port: 1 });
  });
});

describe("BROKER_URL beside the individual settings", () => {
  it("settings that agree with the URL are accepted (the host case-insensitively)", () => {
    const resolved = resolve(
      env({ BROKER_URL: "amqp://feeds:s3cret@Rabbit.example.com:5673/prod" }),
      module({
        BROKER_HOST: "rabbit.EXAMPLE.com",
        BROKER_PORT: 5673,
        BROKER_USER: "feeds",
        BROKER_PASSWORD: "s3cret",
        BROKER_VHOST: "prod",
      }),
    );
    expect(resolved.options).toEqual({ url: "amqp://feeds:s3cret@Rabbit.example.com:5673/prod" });
  });

  it("a part the URL leaves out is filled from its setting, percent-encoded", () => {
    const resolved = resolve(
      module({ BROKER_URL: "amqp://rabbit.example.com" }),
      env({
        BROKER_USER: "feeds",
        BROKER_PASSWORD: "p@ss:w/rd",
        BROKER_PORT: "5673",
        BROKER_VHOST: "/feeds",
      }),
    );
    expect(resolved.options).toEqual({
      url: "amqp://feeds:p%40ss%3Aw%2Frd@rabbit.example.com:5673/%2Ffeeds",
    });
  });

  const conflicts = [
    { setting: "BROKER_HOST", value: "other.example.com", part: 'names host "rabbit"' },
    { setting: "AMQP_SERVER", value: "other.example.com", part: 'names host "rabbit"' },
    { setting: "BROKER_PORT", value: 5673, part: "names port 5672" },
    { setting: "BROKER_USER", value: "someone", part: 'names user "feeds"' },
    { setting: "BROKER_VHOST", value: "other", part: 'names vhost "prod"' },
  ];
  it.each(conflicts)(
    "$setting that differs from the URL is a conflict naming both settings and sources",
    async ({ setting, value, part }) => {
      const sources = [
        env({ [setting]: value }),
        module({ BROKER_URL: "amqp://feeds:s3cret@rabbit:5672/prod" }),
      ];
      const error = await settingsFailure(() => resolve(...sources));
      expect(error).toBeInstanceOf(ConflictingSettingsError);
      expect(error).toMatchObject({
        code: "ERR_CARROT_CONFLICTING_SETTINGS",
        name: "ConflictingSettingsError",
      });
      expect(error.message).toContain(
        `${setting} (from the environment) is ${JSON.stringify(value)}`,
      );
      expect(error.message).toContain(
        `BROKER_URL (from settings module /app/carrot.settings.js) ${part}`,
      );
      expect(error.message).toContain("amqp://feeds:***@rabbit:5672/prod");
      expect(error.message).not.toContain("s3cret");
      expect((error as ConflictingSettingsError).settings).toEqual([
        { setting, source: "the environment" },
        { setting: "BROKER_URL", source: "settings module /app/carrot.settings.js" },
      ]);
    },
  );

  it("a different password is a conflict that never shows either password", async () => {
    const error = await settingsFailure(() =>
      resolve(
        env({ BROKER_PASSWORD: "env-secret" }),
        module({ BROKER_URL: "amqp://feeds:url-secret@rabbit/" }),
      ),
    );
    expect(error).toBeInstanceOf(ConflictingSettingsError);
    expect(error.message).toContain(
      "BROKER_PASSWORD (from the environment) differs from the password in BROKER_URL",
    );
    expect(error.message).not.toMatch(/env-secret|url-secret/);
  });

  it("CARROT_BACKEND must agree with the URL's scheme; amqp covers amqps:// too", async () => {
    expect(
      resolve(module({ CARROT_BACKEND: "amqp", BROKER_URL: "amqps://rabbit" })).options,
    ).toEqual({ url: "amqps://rabbit" });
    const error = await settingsFailure(() =>
      resolve(env({ CARROT_BACKEND: "redis" }), module({ BROKER_URL: "amqp://rabbit" })),
    );
    expect(error).toBeInstanceOf(ConflictingSettingsError);
    expect(error.message).toContain(
      "CARROT_BACKEND (from the environment) chooses the redis backend but BROKER_URL (from settings module /app/carrot.settings.js) is a URL for amqp://",
    );
  });

  it("BROKER_USE_SSL upgrades amqp:// and redis:// URLs to their TLS schemes, as kombu does", () => {
    expect(resolve(module({ BROKER_URL: "amqp://rabbit", BROKER_USE_SSL: true })).options).toEqual({
      url: "amqps://rabbit",
      tls: true,
    });
    expect(
      resolve(module({ BROKER_URL: "redis://cache/0", BROKER_USE_SSL: "yes" })).options,
    ).toEqual({ url: "rediss://cache/0", tls: true });
    const ca = { ca: "PEM" };
    expect(resolve(module({ BROKER_URL: "amqp://rabbit", BROKER_USE_SSL: ca })).options).toEqual({
      url: "amqps://rabbit",
      tls: ca,
    });
  });

  it("BROKER_USE_SSL=false beside a TLS scheme is a conflict", async () => {
    const fromUrl = await settingsFailure(() =>
      resolve(env({ BROKER_USE_SSL: "false" }), module({ BROKER_URL: "amqps://rabbit" })),
    );
    expect(fromUrl).toBeInstanceOf(ConflictingSettingsError);
    expect(fromUrl.message).toContain(
      "BROKER_USE_SSL (from the environment) is false but BROKER_URL",
    );
    const fromBackend = await settingsFailure(() =>
      resolve(module({ CARROT_BACKEND: "amqps", BROKER_USE_SSL: false })),
    );
    expect(fromBackend).toBeInstanceOf(ConflictingSettingsError);
    expect(fromBackend.message).toContain(
      "CARROT_BACKEND (from settings module /app/carrot.settings.js) asks for amqps",
    );
  });

  it("BROKER_CONNECTION_TIMEOUT applies to a URL as to fields", () => {
    expect(
      resolve(env({ BROKER_URL: "amqp://rabbit", BROKER_CONNECTION_TIMEOUT: "2.5" })).options,
    ).toEqual({
      url: "amqp://rabbit",
      connectTimeout: 2500,
    });
  });
});

describe("CARROT_BACKEND", () => {
  const names = [
    ["amqp", { hostname: "h" }],
    ["amqplib", { hostname: "h" }],
    ["pyamqplib", { hostname: "h" }],
    ["pika", { hostname: "h" }],
    ["pikachu", { hostname: "h" }],
    ["syncpika", { hostname: "h" }],
    ["carrot.backends.pyamqplib.Backend", { hostname: "h" }],
    ["carrot.backends.pikachu.AsyncoreBackend", { hostname: "h" }],
    ["carrot.backends.pikachu.SyncBackend", { hostname: "h" }],
    ["AMQP", { hostname: "h" }],
    ["amqps", { hostname: "h", tls: true }],
    ["memory", { url: "memory://h" }],
    ["mem", { url: "memory://h" }],
    ["carrot.backends.queue.Backend", { url: "memory://h" }],
    ["redis", { url: "redis://h" }],
    ["redis://", { url: "redis://h" }],
    ["rediss", { url: "rediss://h" }],
    ["sqs", { url: "sqs://h" }],
    ["my-broker", { url: "my-broker://h" }],
  ] as const;
  it.each(names)("%s", (name, options) => {
    expect(resolve(module({ CARROT_BACKEND: name, BROKER_HOST: "h" })).options).toEqual(options);
  });

  it("AMQP takes the fields as they are; other backends get a URL spelled from them", () => {
    const fields = {
      BROKER_HOST: "cache",
      BROKER_PORT: 6380,
      BROKER_USER: "u",
      BROKER_PASSWORD: "p w",
      BROKER_VHOST: "2",
    };
    expect(resolve(module({ ...fields, CARROT_BACKEND: "redis" })).options).toEqual({
      url: "redis://u:p%20w@cache:6380/2",
    });
    expect(
      resolve(module({ ...fields, CARROT_BACKEND: "redis", BROKER_USE_SSL: true })).options,
    ).toEqual({
      url: "rediss://u:p%20w@cache:6380/2",
      tls: true,
    });
    expect(resolve(module({ CARROT_BACKEND: "memory" })).options).toEqual({ url: "memory://" });
    expect(resolve(module({ CARROT_BACKEND: "redis", BROKER_HOST: "::1" })).options).toEqual({
      url: "redis://[::1]",
    });
  });
});

describe("arguments (overrides)", () => {
  const settings = module({
    BROKER_HOST: "h",
    BROKER_PORT: 5673,
    BROKER_USER: "u",
    BROKER_CONNECTION_TIMEOUT: 3,
  });

  it("win over settings field by field, and pass other connection options through", () => {
    const resolved = resolveSettings([settings], { hostname: "override", heartbeat: 30 });
    expect(resolved.options).toEqual({
      hostname: "override",
      port: 5673,
      userid: "u",
      connectTimeout: 3000,
      heartbeat: 30,
    });
    expect(resolved.origins.hostname).toEqual({ setting: "hostname", source: ARGUMENTS_SOURCE });
    expect(resolved.origins.heartbeat).toEqual({ setting: "heartbeat", source: ARGUMENTS_SOURCE });
  });

  it("a url argument replaces the address the settings gave, keeping the other settings", () => {
    const resolved = resolveSettings([settings], { url: "memory://x" });
    expect(resolved.options).toEqual({ url: "memory://x", connectTimeout: 3000 });
    expect(resolved.origins.hostname).toBeUndefined();
  });

  it("fields given as arguments go into a URL the settings gave, without a conflict", () => {
    const resolved = resolveSettings([module({ BROKER_URL: "amqp://u:p@rabbit:5672/v" })], {
      hostname: "other",
      port: 5673,
    });
    expect(resolved.options).toEqual({ url: "amqp://u:p@other:5673/v" });
  });

  it("undefined arguments are ignored", () => {
    expect(resolveSettings([settings], { hostname: undefined }).options.hostname).toBe("h");
  });
});
