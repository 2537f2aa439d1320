import { SETTING_NAMES } from "./setting-names.js";
import { InvalidSettingError } from "./settings-errors.js";

/** One place settings are read from. Sources are consulted in order; the first that has a setting wins. */
export interface SettingsSource {
  /** How errors name it: "the explicit settings", "the environment", "settings module /app/carrot.settings.js". */
  readonly name: string;
  /** Settings by name, as the source holds them (strings from the environment, any type from a module). */
  readonly values: Readonly<Record<string, unknown>>;
}

/** How origins name the settings object given in code. */
export const EXPLICIT_SOURCE = "the explicit settings";
/** How origins name the environment. */
export const ENVIRONMENT_SOURCE = "the environment";

/** The settings object given in code: the highest-precedence source. */
export function explicitSource(settings: unknown): SettingsSource {
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
    throw new InvalidSettingError(
      `settings must be an object of settings by name ({ BROKER_URL: "amqp://..." }), got ${
        Array.isArray(settings) ? "an array" : typeof settings
      }`,
      [{ setting: "settings", source: "the options" }],
    );
  }
  return { name: EXPLICIT_SOURCE, values: settings as Record<string, unknown> };
}

/**
 * The environment, read for carrot's names only. An empty variable counts as
 * unset, since shells and compose files pass unset variables through as "".
 */
export function environmentSource(
  env: Readonly<Record<string, string | undefined>>,
): SettingsSource {
  const values: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== "") values[name] = value;
  }
  return { name: ENVIRONMENT_SOURCE, values };
}
