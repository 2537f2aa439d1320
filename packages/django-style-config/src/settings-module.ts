import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, extname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  describeOrigin,
  type SettingOrigin,
  SettingsModuleLoadError,
  SettingsModuleNotFoundError,
} from "./settings-errors.js";
import type { SettingsSource } from "./settings-source.js";

/** The file settings are loaded from, and what named it (absent when it was found by searching). */
export interface SettingsModuleLocation {
  readonly path: string;
  readonly namedBy?: SettingOrigin;
}

const EXTENSIONS = [".js", ".mjs", ".cjs", ".json"];
const DISCOVERED_NAME = "carrot.settings";

/** `specifier` (CARROT_SETTINGS_MODULE's value): a file path, else a package specifier, resolved from `cwd`. */
export function resolveSettingsModule(
  specifier: string,
  cwd: string,
  namedBy: SettingOrigin,
): SettingsModuleLocation {
  const file = resolve(cwd, specifier);
  const pathOnly = specifier.startsWith(".") || isAbsolute(specifier);
  if (isFile(file)) return checked({ path: file, namedBy });
  if (pathOnly) {
    throw new SettingsModuleNotFoundError(
      `${describeOrigin(namedBy)} names ${file}, which does not exist`,
      [namedBy],
    );
  }
  // Resolved as `require` would from the working directory, like Django's import from the project
  // root. createRequire wants a file in that directory; it need not exist.
  try {
    return checked({ path: createRequire(join(cwd, "noop.js")).resolve(specifier), namedBy });
  } catch (error) {
    throw new SettingsModuleNotFoundError(
      `${describeOrigin(namedBy)} is '${specifier}', which is neither a file (${file}) nor a package resolvable from ${cwd}`,
      [namedBy],
      { cause: error },
    );
  }
}

/** The nearest carrot.settings.{js,mjs,cjs,json}, from `cwd` up to the root; in one directory, in that order. */
export function discoverSettingsModule(cwd: string): SettingsModuleLocation | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const extension of EXTENSIONS) {
      const path = join(dir, DISCOVERED_NAME + extension);
      if (isFile(path)) return { path };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Loads a module synchronously: JSON by reading it, JavaScript (CommonJS or ESM) with `require`. */
export function loadSettingsModuleSync(location: SettingsModuleLocation): SettingsSource {
  if (isJson(location)) {
    return jsonSource(
      location,
      loading(location, () => readFileSync(location.path, "utf8")),
    );
  }
  return exportsSource(
    location,
    loading(location, () => createRequire(import.meta.url)(location.path)),
  );
}

/** Loads a module with `import()` (so top-level await works); JSON by reading it. */
export async function loadSettingsModule(
  location: SettingsModuleLocation,
): Promise<SettingsSource> {
  try {
    if (isJson(location)) return jsonSource(location, await readFile(location.path, "utf8"));
    return exportsSource(location, await import(pathToFileURL(location.path).href));
  } catch (error) {
    throw error instanceof SettingsModuleLoadError ? error : threw(location, error);
  }
}

/** Runs a synchronous load, turning its failure into a SettingsModuleLoadError. */
function loading<T>(location: SettingsModuleLocation, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_REQUIRE_ASYNC_MODULE") {
      throw new SettingsModuleLoadError(
        `${describeLocation(location)} uses top-level await, so it cannot be loaded synchronously: use \`await connectionFromSettings()\` instead of \`new DjangoAMQPConnection()\``,
        originsOf(location),
        { cause: error },
      );
    }
    throw threw(location, error);
  }
}

function checked(location: SettingsModuleLocation): SettingsModuleLocation {
  if (!EXTENSIONS.includes(extname(location.path))) {
    throw new SettingsModuleLoadError(
      `${describeLocation(location)} is not a .js, .mjs, .cjs or .json file`,
      originsOf(location),
    );
  }
  return location;
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

function isJson(location: SettingsModuleLocation): boolean {
  return extname(location.path) === ".json";
}

function describeLocation(location: SettingsModuleLocation): string {
  const by = location.namedBy ? `, named by ${describeOrigin(location.namedBy)},` : "";
  return `settings module ${location.path}${by}`;
}

function originsOf(location: SettingsModuleLocation): SettingOrigin[] {
  return [location.namedBy ?? { setting: "carrot.settings.*", source: location.path }];
}

/** The module's own error stays the cause; its message is not copied, since it may quote the file's values. */
function threw(location: SettingsModuleLocation, error: unknown): SettingsModuleLoadError {
  const what = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown }).code;
  return new SettingsModuleLoadError(
    `${describeLocation(location)} threw ${what}${typeof code === "string" ? ` (${code})` : ""} while loading; see the cause`,
    originsOf(location),
    { cause: error },
  );
}

/**
 * JSON is parsed here rather than required: V8's syntax errors quote the
 * text around the fault, which may be a password, so the cause keeps only
 * the position.
 */
function jsonSource(location: SettingsModuleLocation, text: string): SettingsSource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    const where = position === undefined ? "" : ` at ${lineAndColumn(text, Number(position))}`;
    throw new SettingsModuleLoadError(
      `${describeLocation(location)} is not valid JSON${where}`,
      originsOf(location),
      {
        cause: new SyntaxError(`invalid JSON${where}`),
      },
    );
  }
  return exportsSource(location, parsed);
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split("\n");
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/**
 * A module's settings are its named exports, as a Python module's are its
 * attributes; a default-exported object (or `module.exports`) counts too,
 * with named exports winning.
 */
function exportsSource(location: SettingsModuleLocation, exported: unknown): SettingsSource {
  const notSettings = () =>
    new SettingsModuleLoadError(
      `${describeLocation(location)} must export settings by name (export const BROKER_URL = ...), or an object of them`,
      originsOf(location),
    );
  if (!isObject(exported)) throw notSettings();
  const { default: fallback, ...named } = exported;
  if (isObject(fallback)) return { name: sourceName(location), values: { ...fallback, ...named } };
  // import() of `module.exports = 5` gives { default: 5 }: a module with nothing but a non-object.
  if (fallback !== undefined && Object.keys(named).length === 0) throw notSettings();
  return { name: sourceName(location), values: named };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sourceName(location: SettingsModuleLocation): string {
  return `settings module ${location.path}`;
}
