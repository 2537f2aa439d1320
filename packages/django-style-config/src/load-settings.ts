import { SETTINGS_MODULE_VARIABLE } from "./setting-names.js";
import {
  discoverSettingsModule,
  loadSettingsModule,
  loadSettingsModuleSync,
  resolveSettingsModule,
  type SettingsModuleLocation,
} from "./settings-module.js";
import {
  ENVIRONMENT_SOURCE,
  environmentSource,
  explicitSource,
  type SettingsSource,
} from "./settings-source.js";

/** Where settings are read from; every field is optional and defaults to what a Django project would do. */
export interface SettingsOptions {
  /** Settings by name (`{ BROKER_URL: "..." }`): the highest-precedence source. */
  settings?: Readonly<Record<string, unknown>>;
  /** The environment to read; default `process.env`. Pass `{}` to read none. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The settings module, in place of CARROT_SETTINGS_MODULE: a path or a
   * package specifier. `false` reads no module (and searches for none).
   */
  settingsModule?: string | false;
  /** Where relative paths resolve and the carrot.settings.* search starts; default `process.cwd()`. */
  cwd?: string;
}

/**
 * The sources in precedence order: explicit settings, the environment, then
 * the settings module. Synchronous: JavaScript modules are loaded with
 * `require` (which loads ESM on Node >= 20.19, except with top-level await).
 */
export function loadSettingsSourcesSync(options: SettingsOptions = {}): SettingsSource[] {
  const location = locate(options);
  return [...nearSources(options), ...(location ? [loadSettingsModuleSync(location)] : [])];
}

/** As `loadSettingsSourcesSync`, but JavaScript modules are loaded with `import()`, so top-level await works. */
export async function loadSettingsSources(
  options: SettingsOptions = {},
): Promise<SettingsSource[]> {
  const location = locate(options);
  return [...nearSources(options), ...(location ? [await loadSettingsModule(location)] : [])];
}

function nearSources(options: SettingsOptions): SettingsSource[] {
  const explicit = options.settings === undefined ? [] : [explicitSource(options.settings)];
  return [...explicit, environmentSource(options.env ?? process.env)];
}

function locate(options: SettingsOptions): SettingsModuleLocation | undefined {
  const { settingsModule } = options;
  if (settingsModule === false) return undefined;
  const cwd = options.cwd ?? process.cwd();
  if (settingsModule !== undefined) {
    return resolveSettingsModule(settingsModule, cwd, {
      setting: "settingsModule",
      source: "the options",
    });
  }
  const named = (options.env ?? process.env)[SETTINGS_MODULE_VARIABLE];
  if (named) {
    return resolveSettingsModule(named, cwd, {
      setting: SETTINGS_MODULE_VARIABLE,
      source: ENVIRONMENT_SOURCE,
    });
  }
  return discoverSettingsModule(cwd);
}
