import { CarrotError } from "@carrot/core";

// The codes below join `CarrotErrorCode`, so that a switch on a CarrotError's
// code knows them wherever this package is imported.
declare module "@carrot/core" {
  interface CarrotErrorCodes {
    /** {@link SettingsError} */
    ERR_CARROT_SETTINGS: "SettingsError";
    /** {@link InvalidSettingError} */
    ERR_CARROT_INVALID_SETTING: "InvalidSettingError";
    /** {@link UnknownBackendError} */
    ERR_CARROT_UNKNOWN_BACKEND: "UnknownBackendError";
    /** {@link ConflictingSettingsError} */
    ERR_CARROT_CONFLICTING_SETTINGS: "ConflictingSettingsError";
    /** {@link SettingsModuleNotFoundError} */
    ERR_CARROT_SETTINGS_MODULE_NOT_FOUND: "SettingsModuleNotFoundError";
    /** {@link SettingsModuleLoadError} */
    ERR_CARROT_SETTINGS_MODULE_LOAD: "SettingsModuleLoadError";
  }
}

/** A setting and the source it was read from, as errors and `resolveSettings` report them. */
export interface SettingOrigin {
  /** The setting's name as written (`BROKER_HOST`, `AMQP_SERVER`...), or the argument's name. */
  readonly setting: string;
  /** Where it was read: "the explicit settings", "the environment", "settings module /app/carrot.settings.js"... */
  readonly source: string;
}

/**
 * Every error about settings. `settings` names each setting at fault with its
 * source, so a caller can point at the line to fix. Messages never hold a
 * password: values of BROKER_PASSWORD/AMQP_PASSWORD are never shown, and URLs
 * are shown through `redactUrl`.
 */
export class SettingsError extends CarrotError {
  override readonly code:
    | "ERR_CARROT_SETTINGS"
    | "ERR_CARROT_INVALID_SETTING"
    | "ERR_CARROT_UNKNOWN_BACKEND"
    | "ERR_CARROT_CONFLICTING_SETTINGS"
    | "ERR_CARROT_SETTINGS_MODULE_NOT_FOUND"
    | "ERR_CARROT_SETTINGS_MODULE_LOAD" = "ERR_CARROT_SETTINGS";
  override name = "SettingsError";
  /** Each setting at fault, with the source it was read from. */
  readonly settings: readonly SettingOrigin[];

  /** @param settings the settings at fault, each with its source */
  constructor(message: string, settings: readonly SettingOrigin[], options?: ErrorOptions) {
    super(message, options);
    this.settings = settings;
  }
}

/** A setting of the wrong type or out of range (a port that is not a number, a bad URL...). */
export class InvalidSettingError extends SettingsError {
  override readonly code = "ERR_CARROT_INVALID_SETTING";
  override name = "InvalidSettingError";
}

/** CARROT_BACKEND (or BROKER_URL's scheme) names no backend carrot knows. */
export class UnknownBackendError extends SettingsError {
  override readonly code = "ERR_CARROT_UNKNOWN_BACKEND";
  override name = "UnknownBackendError";
}

/** Two settings that say different things (BROKER_URL's host and BROKER_HOST...). */
export class ConflictingSettingsError extends SettingsError {
  override readonly code = "ERR_CARROT_CONFLICTING_SETTINGS";
  override name = "ConflictingSettingsError";
}

/** CARROT_SETTINGS_MODULE names a file or package that does not exist. */
export class SettingsModuleNotFoundError extends SettingsError {
  override readonly code = "ERR_CARROT_SETTINGS_MODULE_NOT_FOUND";
  override name = "SettingsModuleNotFoundError";
}

/** The settings module exists but could not be loaded: it threw, is not valid JSON, or exports no object. */
export class SettingsModuleLoadError extends SettingsError {
  override readonly code = "ERR_CARROT_SETTINGS_MODULE_LOAD";
  override name = "SettingsModuleLoadError";
}

/** "BROKER_PORT from the environment": how messages name a setting. */
export function describeOrigin(origin: SettingOrigin): string {
  return `${origin.setting} (from ${origin.source})`;
}
