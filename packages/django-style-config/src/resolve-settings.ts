import type { ConnectionOptions } from "@carrot/core";
import { backendScheme, SECURE_SCHEMES, schemeFamily } from "./backend-names.js";
import {
  ADDRESS_FIELDS,
  type Address,
  addressConflict,
  sameValue,
  statedAddress,
  withAddress,
} from "./broker-url.js";
import { SETTINGS, type SettingField } from "./setting-names.js";
import {
  parseHostname,
  parsePort,
  parseSecondsAsMilliseconds,
  parseString,
  parseTls,
  parseUrl,
} from "./setting-values.js";
import { ConflictingSettingsError, describeOrigin, type SettingOrigin } from "./settings-errors.js";
import type { SettingsSource } from "./settings-source.js";

/** A deprecated name that was read: the caller warns about it (`resolveSettings` itself has no side effects). */
export interface DeprecatedSettingUse {
  /** The deprecated name that was read (`AMQP_HOST`). */
  readonly setting: string;
  /** The name to use instead (`BROKER_HOST`). */
  readonly replacement: string;
  /** The source it was read from ("the environment"...). */
  readonly source: string;
}

/** What `resolveSettings` found: the connection's options, where each came from, and the deprecated names read. */
export interface ResolvedSettings {
  /** What to give `new Connection(...)`. */
  readonly options: ConnectionOptions;
  /**
   * Where each option came from. `backend` is the setting that chose the
   * backend (CARROT_BACKEND). Options left to core's defaults are absent.
   */
  readonly origins: Readonly<Partial<Record<keyof ConnectionOptions, SettingOrigin>>>;
  /** Each deprecated name that was read, for the caller to warn about. */
  readonly deprecated: readonly DeprecatedSettingUse[];
}

/** How origins name constructor arguments (carrot's explicit keyword arguments). */
export const ARGUMENTS_SOURCE = "the arguments";

const PARSERS = {
  url: parseUrl,
  backend: (value: unknown, origin: SettingOrigin) =>
    backendScheme(parseString(value, origin), origin),
  hostname: parseHostname,
  port: parsePort,
  userid: parseString,
  password: parseString,
  vhost: parseString,
  tls: parseTls,
  connectTimeout: parseSecondsAsMilliseconds,
} satisfies Record<SettingField, (value: unknown, origin: SettingOrigin) => unknown>;

type Found = {
  [F in SettingField]?: { value: ReturnType<(typeof PARSERS)[F]>; origin: SettingOrigin };
};

/**
 * Settings to connection options, and where each came from. Pure: sources
 * are already loaded (see `loadSettingsSources`) and nothing is warned.
 *
 * - Per field, the first source (in the order given) that sets any of its
 *   names wins; within a source the primary name wins over deprecated ones,
 *   as in carrot.
 * - BROKER_URL and a field setting for the same part (host, port, user,
 *   password, vhost) must agree, or it is a `ConflictingSettingsError`; a
 *   part the URL leaves out (no userinfo, no port, no path) is filled from
 *   the field setting. CARROT_BACKEND must agree with the URL's scheme.
 * - `overrides` (the constructor's arguments) win over every setting.
 */
export function resolveSettings(
  sources: readonly SettingsSource[],
  overrides: ConnectionOptions = {},
): ResolvedSettings {
  const deprecated: DeprecatedSettingUse[] = [];
  const found = readSettings(sources, deprecated);
  const origins: Partial<Record<keyof ConnectionOptions, SettingOrigin>> = {};
  for (const { field } of SETTINGS) {
    const origin = found[field]?.origin;
    if (origin) origins[field] = origin;
  }
  const options = found.url ? fromUrl(found, found.url) : fromFields(found);
  if (found.connectTimeout) options.connectTimeout = found.connectTimeout.value;
  return applyOverrides({ options, origins, deprecated }, overrides);
}

function readSettings(
  sources: readonly SettingsSource[],
  deprecated: DeprecatedSettingUse[],
): Found {
  const found: Record<string, { value: unknown; origin: SettingOrigin }> = {};
  for (const { field, name, deprecated: oldNames } of SETTINGS) {
    search: for (const source of sources) {
      for (const setting of [name, ...oldNames]) {
        const raw = source.values[setting];
        // A module may set a name to undefined or null (`process.env.X ?? null`): that is unset.
        if (raw === undefined || raw === null) continue;
        const origin = { setting, source: source.name };
        found[field] = { value: PARSERS[field](raw, origin), origin };
        if (setting !== name) deprecated.push({ setting, replacement: name, source: source.name });
        break search;
      }
    }
  }
  return found as Found;
}

type FoundUrl = NonNullable<Found["url"]>;

function fromUrl(found: Found, { value: url, origin: urlOrigin }: FoundUrl): ConnectionOptions {
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const backend = found.backend;
  if (backend && schemeFamily(backend.value) !== schemeFamily(scheme)) {
    throw new ConflictingSettingsError(
      `${describeOrigin(backend.origin)} chooses the ${backend.value} backend but ${describeOrigin(urlOrigin)} is a URL for ${scheme}://; set only one of them, or make them agree`,
      [backend.origin, urlOrigin],
    );
  }
  const stated = statedAddress(url, urlOrigin);
  const missing: Address = {};
  for (const field of ADDRESS_FIELDS) {
    const setting = found[field];
    if (!setting) continue;
    const urlValue = stated[field];
    if (urlValue === undefined) Object.assign(missing, { [field]: setting.value });
    else if (!sameValue(field, setting.value, urlValue))
      throw addressConflict(field, setting.value, setting.origin, urlValue, url, urlOrigin);
  }
  const merged = withAddress(url, missing);
  const tls = found.tls;
  checkTlsAgrees(tls, { scheme, origin: urlOrigin });
  checkTlsAgrees(tls, backend && { scheme: backend.value, origin: backend.origin });
  // BROKER_USE_SSL with an amqp:// URL means amqps:// (and its default port), as in kombu.
  const secure = SECURE_SCHEMES[scheme];
  const wantsTls =
    Boolean(tls?.value) || (backend !== undefined && backend.value !== schemeFamily(backend.value));
  if (secure && wantsTls) merged.protocol = `${secure}:`;
  return { url: merged.href, ...(tls && { tls: tls.value }) };
}

function fromFields(found: Found): ConnectionOptions {
  const backend = found.backend;
  const scheme = backend?.value ?? "amqp";
  const tls = found.tls;
  checkTlsAgrees(tls, backend && { scheme, origin: backend.origin });
  const address: Address = {};
  for (const field of ADDRESS_FIELDS) {
    const setting = found[field];
    if (setting) Object.assign(address, { [field]: setting.value });
  }
  const tlsOption = tls ? { tls: tls.value } : scheme === "amqps" ? { tls: true } : {};
  // AMQP takes carrot's fields as they are, exactly like `new Connection({ hostname, ... })`.
  if (schemeFamily(scheme) === "amqp") return { ...address, ...tlsOption };
  // Other backends take a URL: the fields spell one, as kombu does (the vhost is Redis's db number).
  const urlScheme = tls?.value ? (SECURE_SCHEMES[scheme] ?? scheme) : scheme;
  return { url: withAddress(new URL(`${urlScheme}://`), address).href, ...tlsOption };
}

/** BROKER_USE_SSL=false beside a TLS scheme (amqps://, rediss://) is a contradiction, not a preference. */
function checkTlsAgrees(
  tls: Found["tls"],
  secureBy: { scheme: string; origin: SettingOrigin } | undefined,
): void {
  if (tls?.value !== false || !secureBy || secureBy.scheme === schemeFamily(secureBy.scheme))
    return;
  throw new ConflictingSettingsError(
    `${describeOrigin(tls.origin)} is false but ${describeOrigin(secureBy.origin)} asks for ${secureBy.scheme}, which is TLS; set only one of them, or make them agree`,
    [tls.origin, secureBy.origin],
  );
}

/** carrot's rule: explicit arguments override settings. They are code, so they win without a conflict check. */
function applyOverrides(
  resolved: ResolvedSettings,
  overrides: ConnectionOptions,
): ResolvedSettings {
  const given = Object.entries(overrides).filter(([, value]) => value !== undefined);
  if (given.length === 0) return resolved;
  const options: Record<string, unknown> = { ...resolved.options };
  const origins: Record<string, SettingOrigin> = { ...resolved.origins };
  let rest = Object.fromEntries(given) as ConnectionOptions;
  if (rest.url !== undefined || rest.backend !== undefined) {
    // An argument that names the broker outright replaces the address the settings gave.
    for (const key of ["url", "backend", ...ADDRESS_FIELDS]) {
      delete options[key];
      delete origins[key];
    }
  } else if (typeof options.url === "string") {
    // Settings gave a URL, which core reads instead of the fields: put the arguments into it.
    const address: Address = {};
    for (const field of ADDRESS_FIELDS) {
      const value = rest[field];
      if (value === undefined) continue;
      const origin = { setting: field, source: ARGUMENTS_SOURCE };
      Object.assign(address, { [field]: field === "port" ? parsePort(value, origin) : value });
    }
    options.url = withAddress(new URL(options.url), address).href;
    rest = Object.fromEntries(
      given.filter(([key]) => !(ADDRESS_FIELDS as readonly string[]).includes(key)),
    );
  }
  for (const [key] of given) origins[key] = { setting: key, source: ARGUMENTS_SOURCE };
  return { ...resolved, options: { ...options, ...rest }, origins };
}
