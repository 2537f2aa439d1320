import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  loadSettingsSources,
  loadSettingsSourcesSync,
  resolveSettings,
  SettingsModuleLoadError,
  SettingsModuleNotFoundError,
  type SettingsOptions,
} from "../src/index.js";
import { esmSettings, settingsDir } from "./support/settings-dir.js";
import { settingsFailure } from "./support/settings-failure.js";

// Real files in temp directories, loaded both ways: synchronously (what
// `new DjangoAMQPConnection()` does) and with import() (`connectionFromSettings()`).

const loaders = [
  {
    way: "synchronously",
    load: async (options: SettingsOptions) => loadSettingsSourcesSync(options),
  },
  { way: "with import()", load: loadSettingsSources },
];

describe.each(loaders)("settings modules, loaded $way", ({ load }) => {
  /** The options the settings resolve to, with no environment but CARROT_SETTINGS_MODULE. */
  async function resolved(cwd: string, settingsModule?: string, extra: SettingsOptions = {}) {
    const env = settingsModule === undefined ? {} : { CARROT_SETTINGS_MODULE: settingsModule };
    return resolveSettings(await load({ env, cwd, ...extra }));
  }

  const formats = [
    ["carrot.json", JSON.stringify({ BROKER_HOST: "json" }), undefined],
    ["carrot.cjs", "module.exports = { BROKER_HOST: 'cjs' };", undefined],
    ["carrot.mjs", esmSettings({ BROKER_HOST: "mjs" }), undefined],
    ["carrot.js", esmSettings({ BROKER_HOST: "esm-js" }), '{ "type": "module" }'],
    ["carrot.js", "exports.BROKER_HOST = 'cjs-js';", '{ "type": "commonjs" }'],
  ] as const;
  it.each(formats)(
    "reads %s named by CARROT_SETTINGS_MODULE (%#)",
    async (file, text, packageJson) => {
      const dir = settingsDir({
        [file]: text,
        ...(packageJson && { "package.json": packageJson }),
      });
      const host = (await resolved(dir, `./${file}`)).options.hostname;
      expect(host).toBe(
        {
          "carrot.json": "json",
          "carrot.cjs": "cjs",
          "carrot.mjs": "mjs",
          "carrot.js": packageJson?.includes("module") ? "esm-js" : "cjs-js",
        }[file],
      );
    },
  );

  it("names the module in origins", async () => {
    const dir = settingsDir({ "carrot.cjs": "module.exports = { BROKER_PORT: 5673 };" });
    expect((await resolved(dir, "./carrot.cjs")).origins.port).toEqual({
      setting: "BROKER_PORT",
      source: `settings module ${join(dir, "carrot.cjs")}`,
    });
  });

  it("takes an absolute path, and a bare relative path to a file", async () => {
    const dir = settingsDir({ "config/carrot.json": JSON.stringify({ BROKER_VHOST: "v" }) });
    expect((await resolved("/", join(dir, "config/carrot.json"))).options.vhost).toBe("v");
    expect((await resolved(dir, "config/carrot.json")).options.vhost).toBe("v");
  });

  it("takes a package specifier, resolved from the working directory", async () => {
    const dir = settingsDir({
      "node_modules/@acme/settings/package.json": JSON.stringify({
        name: "@acme/settings",
        exports: { "./carrot": "./carrot.mjs" },
      }),
      "node_modules/@acme/settings/carrot.mjs": esmSettings({ BROKER_USER: "acme" }),
      "node_modules/plain-settings/package.json": JSON.stringify({
        name: "plain-settings",
        main: "index.cjs",
      }),
      "node_modules/plain-settings/index.cjs": "module.exports = { BROKER_USER: 'plain' };",
    });
    expect((await resolved(dir, "@acme/settings/carrot")).options.userid).toBe("acme");
    expect((await resolved(dir, "plain-settings")).options.userid).toBe("plain");
  });

  it("reads a default-exported object, with named exports winning over it", async () => {
    const dir = settingsDir({
      "carrot.mjs": `export default { BROKER_HOST: "default", BROKER_PORT: 5673 };\nexport const BROKER_HOST = "named";\n`,
    });
    expect((await resolved(dir, "./carrot.mjs")).options).toEqual({
      hostname: "named",
      port: 5673,
    });
  });

  it("the settingsModule option wins over CARROT_SETTINGS_MODULE; false reads no module at all", async () => {
    const dir = settingsDir({
      "a.json": JSON.stringify({ BROKER_HOST: "a" }),
      "b.json": JSON.stringify({ BROKER_HOST: "b" }),
      "carrot.settings.json": JSON.stringify({ BROKER_HOST: "found" }),
    });
    expect((await resolved(dir, "./a.json", { settingsModule: "./b.json" })).options.hostname).toBe(
      "b",
    );
    expect((await resolved(dir, "./a.json", { settingsModule: false })).options).toEqual({});
  });

  describe("carrot.settings.* found from the working directory upward", () => {
    it("finds the nearest one, in this directory or above", async () => {
      const dir = settingsDir({
        "carrot.settings.json": JSON.stringify({ BROKER_HOST: "top" }),
        "app/carrot.settings.cjs": "module.exports = { BROKER_HOST: 'app' };",
        "app/src/deep/.keep": "",
        "other/.keep": "",
      });
      expect((await resolved(join(dir, "app/src/deep"))).options.hostname).toBe("app");
      expect((await resolved(join(dir, "other"))).options.hostname).toBe("top");
      expect((await resolved(join(dir, "app"))).origins.hostname?.source).toBe(
        `settings module ${join(dir, "app/carrot.settings.cjs")}`,
      );
    });

    it("in one directory, takes .js, then .mjs, then .cjs, then .json", async () => {
      const files = {
        "carrot.settings.json": JSON.stringify({ BROKER_HOST: "json" }),
        "carrot.settings.cjs": "module.exports = { BROKER_HOST: 'cjs' };",
        "carrot.settings.mjs": esmSettings({ BROKER_HOST: "mjs" }),
      };
      expect((await resolved(settingsDir(files))).options.hostname).toBe("mjs");
      expect(
        (
          await resolved(
            settingsDir({ ...files, "carrot.settings.js": "exports.BROKER_HOST = 'js';" }),
          )
        ).options.hostname,
      ).toBe("js");
      const { "carrot.settings.mjs": _, ...withoutMjs } = files;
      expect((await resolved(settingsDir(withoutMjs))).options.hostname).toBe("cjs");
    });

    it("is not searched for when CARROT_SETTINGS_MODULE names a module", async () => {
      const dir = settingsDir({
        "carrot.settings.json": JSON.stringify({ BROKER_HOST: "found", BROKER_PORT: 1 }),
        "named.json": JSON.stringify({ BROKER_HOST: "named" }),
      });
      expect((await resolved(dir, "./named.json")).options).toEqual({ hostname: "named" });
    });

    it("reads nothing when there is none", async () => {
      expect((await resolved(settingsDir())).options).toEqual({});
    });
  });

  it("precedence: explicit settings, then the environment, then the module", async () => {
    const dir = settingsDir({
      "carrot.settings.json": JSON.stringify({
        BROKER_HOST: "module",
        BROKER_PORT: 1,
        BROKER_VHOST: "module",
      }),
    });
    const sources = await load({
      cwd: dir,
      settings: { BROKER_HOST: "explicit" },
      env: { BROKER_HOST: "env", BROKER_PORT: "2" },
    });
    expect(sources.map((s) => s.name)).toEqual([
      "the explicit settings",
      "the environment",
      `settings module ${join(dir, "carrot.settings.json")}`,
    ]);
    expect(resolveSettings(sources).options).toEqual({
      hostname: "explicit",
      port: 2,
      vhost: "module",
    });
  });

  describe("errors", () => {
    it("a path that does not exist", async () => {
      const dir = settingsDir();
      const error = await settingsFailure(() =>
        load({
          cwd: dir,
          env: { CARROT_SETTINGS_MODULE: "./missing.json" },
        }),
      );
      expect(error).toBeInstanceOf(SettingsModuleNotFoundError);
      expect(error).toMatchObject({
        code: "ERR_CARROT_SETTINGS_MODULE_NOT_FOUND",
        message: `CARROT_SETTINGS_MODULE (from the environment) names ${join(dir, "missing.json")}, which does not exist`,
        settings: [{ setting: "CARROT_SETTINGS_MODULE", source: "the environment" }],
      });
    });

    it("a package that cannot be resolved keeps the resolver's error as the cause", async () => {
      const dir = settingsDir();
      const error = await settingsFailure(() =>
        load({ cwd: dir, settingsModule: "@acme/nonesuch" }),
      );
      expect(error).toBeInstanceOf(SettingsModuleNotFoundError);
      expect(error.message).toContain(
        `settingsModule (from the options) is '@acme/nonesuch', which is neither a file (${join(dir, "@acme/nonesuch")}) nor a package resolvable from ${dir}`,
      );
      expect((error.cause as { code?: string }).code).toBe("MODULE_NOT_FOUND");
    });

    it("a module that throws while loading keeps its error as the cause", async () => {
      const dir = settingsDir({
        "carrot.settings.cjs": "throw new RangeError('no settings today');",
      });
      const error = await settingsFailure(() => load({ cwd: dir, env: {} }));
      expect(error).toBeInstanceOf(SettingsModuleLoadError);
      expect(error).toMatchObject({ code: "ERR_CARROT_SETTINGS_MODULE_LOAD" });
      expect(error.message).toBe(
        `settings module ${join(dir, "carrot.settings.cjs")} threw RangeError while loading; see the cause`,
      );
      expect(error.cause).toBeInstanceOf(Error);
      expect((error.cause as Error).message).toBe("no settings today");
    });

    it("a module whose own import is missing fails to load; it is not itself 'not found'", async () => {
      const dir = settingsDir({ "carrot.settings.cjs": "require('./missing-helper.cjs');" });
      const error = await settingsFailure(() => load({ cwd: dir, env: {} }));
      expect(error).toBeInstanceOf(SettingsModuleLoadError);
      expect(error.message).toMatch(
        /threw Error \((ERR_)?MODULE_NOT_FOUND\) while loading; see the cause$/,
      );
    });

    it("invalid JSON says where, never what (it may be the password)", async () => {
      const dir = settingsDir({
        "carrot.json": '{\n  "BROKER_USER": "feeds",\n  "BROKER_PASSWORD": s3cret\n}',
      });
      const error = await settingsFailure(() =>
        load({ cwd: dir, env: { CARROT_SETTINGS_MODULE: "carrot.json" } }),
      );
      expect(error).toBeInstanceOf(SettingsModuleLoadError);
      expect(error.message).toBe(
        `settings module ${join(dir, "carrot.json")}, named by CARROT_SETTINGS_MODULE (from the environment), is not valid JSON`,
      );
      expect(String(error.cause)).not.toContain("s3cret");
      const located = settingsDir({ "carrot.json": '{\n  "BROKER_PASSWORD": "s3cret",\n}' });
      const at = await settingsFailure(() =>
        load({ cwd: located, settingsModule: "./carrot.json" }),
      );
      expect(at.message).toContain("is not valid JSON at line 3, column 1");
      expect(`${at.message} ${String(at.cause)}`).not.toContain("s3cret");
    });

    it("a module that exports no object of settings", async () => {
      const dir = settingsDir({ "array.json": "[1, 2]", "number.cjs": "module.exports = 5;" });
      for (const file of ["./array.json", "./number.cjs"]) {
        const error = await settingsFailure(() => load({ cwd: dir, settingsModule: file }));
        expect(error).toBeInstanceOf(SettingsModuleLoadError);
        expect(error.message).toContain(
          "must export settings by name (export const BROKER_URL = ...), or an object of them",
        );
      }
    });

    it("a file that is not JavaScript or JSON", async () => {
      const dir = settingsDir({ "carrot.settings.ts": "export const BROKER_HOST = 'ts';" });
      const error = await settingsFailure(() =>
        load({ cwd: dir, settingsModule: "./carrot.settings.ts" }),
      );
      expect(error).toBeInstanceOf(SettingsModuleLoadError);
      expect(error.message).toContain("is not a .js, .mjs, .cjs or .json file");
    });
  });
});

describe("top-level await in a settings module", () => {
  const text = "export const BROKER_HOST = await Promise.resolve('awaited');\n";

  it("works with import() (connectionFromSettings)", async () => {
    const dir = settingsDir({ "carrot.settings.mjs": text });
    expect(resolveSettings(await loadSettingsSources({ cwd: dir, env: {} })).options.hostname).toBe(
      "awaited",
    );
  });

  it("cannot be loaded synchronously (new DjangoAMQPConnection()): the error says what to use instead", () => {
    const dir = settingsDir({ "carrot.settings.mjs": text });
    const run = () => loadSettingsSourcesSync({ cwd: dir, env: {} });
    expect(run).toThrow(SettingsModuleLoadError);
    expect(run).toThrow(
      "uses top-level await, so it cannot be loaded synchronously: use `await connectionFromSettings()`",
    );
  });
});

describe("the environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("is process.env unless another is given", () => {
    vi.stubEnv("BROKER_HOST", "from-process-env");
    vi.stubEnv("AMQP_VHOST", "v");
    const [environment] = loadSettingsSourcesSync({ settingsModule: false });
    expect(environment).toEqual({
      name: "the environment",
      values: { BROKER_HOST: "from-process-env", AMQP_VHOST: "v" },
    });
    expect(loadSettingsSourcesSync({ settingsModule: false, env: {} })[0]?.values).toEqual({});
  });

  it("names the settings module with CARROT_SETTINGS_MODULE in process.env", () => {
    const dir = settingsDir({ "carrot.json": JSON.stringify({ BROKER_HOST: "module" }) });
    vi.stubEnv("CARROT_SETTINGS_MODULE", join(dir, "carrot.json"));
    expect(
      resolveSettings(loadSettingsSourcesSync({ env: { ...process.env, BROKER_HOST: undefined } }))
        .options.hostname,
    ).toBe("module");
  });

  it("counts an empty variable as unset, so the module's value shows through", () => {
    const dir = settingsDir({
      "carrot.settings.json": JSON.stringify({ BROKER_PASSWORD: "from-module" }),
    });
    const sources = loadSettingsSourcesSync({ cwd: dir, env: { BROKER_PASSWORD: "" } });
    expect(resolveSettings(sources).options.password).toBe("from-module");
  });

  it("is read for carrot's names only", () => {
    const [environment] = loadSettingsSourcesSync({
      settingsModule: false,
      env: { PATH: "/bin", BROKER_URL: "memory://" },
    });
    expect(environment?.values).toEqual({ BROKER_URL: "memory://" });
  });
});
