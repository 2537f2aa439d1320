import { Connection, type ConnectionOptions, UnknownSchemeError } from "@carrot/core";
import { unknownBackend } from "./backend-names.js";
import { warnDeprecated } from "./deprecation-warnings.js";
import {
  loadSettingsSources,
  loadSettingsSourcesSync,
  type SettingsOptions,
} from "./load-settings.js";
import { type ResolvedSettings, resolveSettings } from "./resolve-settings.js";

export interface ConnectionFromSettingsOptions extends SettingsOptions {
  /** Connection options that win over every setting (carrot's explicit arguments). */
  overrides?: ConnectionOptions;
}

/**
 * A Connection from settings. Asynchronous because it loads a JavaScript
 * settings module with `import()`, which allows top-level await in it.
 */
export async function connectionFromSettings(
  options: ConnectionFromSettingsOptions = {},
): Promise<Connection> {
  const resolved = resolveSettings(await loadSettingsSources(options), options.overrides);
  warnDeprecated(resolved.deprecated);
  try {
    return new Connection(resolved.options);
  } catch (error) {
    throw namedBySetting(error, resolved);
  }
}

/**
 * carrot's `DjangoAMQPConnection`: a Connection whose settings come from the
 * settings module and the environment, resolved synchronously when
 * constructed (a settings module with top-level await needs
 * `connectionFromSettings()`). Arguments win over settings.
 */
export class DjangoAMQPConnection extends Connection {
  constructor(overrides?: ConnectionOptions, options: SettingsOptions = {}) {
    const resolved = resolveSettings(loadSettingsSourcesSync(options), overrides);
    warnDeprecated(resolved.deprecated);
    try {
      super(resolved.options);
    } catch (error) {
      throw namedBySetting(error, resolved);
    }
  }
}

/** carrot's later name for the same class. */
export const DjangoBrokerConnection = DjangoAMQPConnection;
export type DjangoBrokerConnection = DjangoAMQPConnection;

/** Core knows no backend for the scheme: say which setting chose it, and from where. */
function namedBySetting(error: unknown, resolved: ResolvedSettings): unknown {
  const origin = resolved.origins.backend ?? resolved.origins.url;
  const url = resolved.options.url;
  if (!(error instanceof UnknownSchemeError) || !origin || url === undefined) return error;
  return unknownBackend(origin, new URL(url).protocol.slice(0, -1), error);
}
