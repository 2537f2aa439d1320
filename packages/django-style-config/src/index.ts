// carrot connections from settings: explicit, the environment, a settings module.

export {
  type ConnectionFromSettingsOptions,
  connectionFromSettings,
  DjangoAMQPConnection,
  DjangoBrokerConnection,
} from "./connection-from-settings.js";
export {
  loadSettingsSources,
  loadSettingsSourcesSync,
  type SettingsOptions,
} from "./load-settings.js";
export {
  ARGUMENTS_SOURCE,
  type DeprecatedSettingUse,
  type ResolvedSettings,
  resolveSettings,
} from "./resolve-settings.js";
export {
  SETTING_NAMES,
  SETTINGS,
  SETTINGS_MODULE_VARIABLE,
  type Setting,
  type SettingField,
} from "./setting-names.js";
export {
  ConflictingSettingsError,
  InvalidSettingError,
  type SettingOrigin,
  SettingsError,
  SettingsModuleLoadError,
  SettingsModuleNotFoundError,
  UnknownBackendError,
} from "./settings-errors.js";
export { ENVIRONMENT_SOURCE, EXPLICIT_SOURCE, type SettingsSource } from "./settings-source.js";
