import type { Backend, BackendFactory, BackendOptions } from "./contract.js";
import { BackendNotInstalledError, InvalidOptionsError, UnknownSchemeError } from "./errors.js";

/** The backend package that serves each scheme carrot knows. */
const PACKAGES: Readonly<Record<string, string>> = {
  memory: "@carrot/backend-memory",
  amqp: "@carrot/backend-amqplib",
  amqps: "@carrot/backend-amqplib",
  redis: "@carrot/backend-redis",
  rediss: "@carrot/backend-redis",
  "redis+cluster": "@carrot/backend-redis",
  "rediss+cluster": "@carrot/backend-redis",
  sqs: "@carrot/backend-sqs",
};

const registered = new Map<string, BackendFactory>();

/** A factory object, or a bare function building a backend from options. */
export type BackendFactoryLike = BackendFactory | ((options: BackendOptions) => Backend);

export function toFactory(factory: BackendFactoryLike, name = "custom"): BackendFactory {
  if (typeof factory === "function") return { name, schemes: [], create: factory };
  if (factory && typeof factory.create === "function") return factory;
  throw new InvalidOptionsError(
    "a backend factory is a function (options) => Backend or an object with create(options)",
  );
}

/**
 * Serves `scheme://` URLs with a backend of your own (or replaces a built-in
 * one). Registered schemes win over carrot's package table.
 */
export function registerBackend(scheme: string, factory: BackendFactoryLike): void {
  const name = scheme.replace(/:(\/\/)?$/, "").toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(name))
    throw new InvalidOptionsError(`'${scheme}' is not a URL scheme`);
  registered.set(name, toFactory(factory, name));
}

/** Throws `UnknownSchemeError` now, at construction, for schemes nothing serves. */
export function assertKnownScheme(scheme: string): void {
  if (!registered.has(scheme) && !(scheme in PACKAGES)) {
    const known = [...new Set([...Object.keys(PACKAGES), ...registered.keys()])].join(", ");
    throw new UnknownSchemeError(
      `no carrot backend serves '${scheme}://' URLs (known: ${known}); install a backend for it and call registerBackend('${scheme}', factory), or pass { backend }`,
    );
  }
}

export async function loadBackendFactory(scheme: string): Promise<BackendFactory> {
  const factory = registered.get(scheme);
  if (factory) return factory;
  assertKnownScheme(scheme);
  const loaded = await importBackend(PACKAGES[scheme]!, scheme);
  registered.set(scheme, loaded);
  return loaded;
}

/**
 * Loads a backend package's default export. A missing package names what to
 * install, and what a bundled application does instead: a bundler cannot
 * follow this import by name, so the package is absent from the bundle even
 * when it is installed.
 */
export async function importBackend(packageName: string, scheme: string): Promise<BackendFactory> {
  let module: { default?: BackendFactoryLike };
  try {
    module = await import(packageName);
  } catch (error) {
    if (isMissingPackage(error, packageName)) {
      throw new BackendNotInstalledError(
        `'${scheme}://' URLs need the ${packageName} package, which could not be loaded: npm install ${packageName}; ` +
          "a bundled application (esbuild, webpack, Rollup...) registers it itself before connecting: " +
          `import "${packageName}/register" (carrot's backends), or import { registerBackend } from "@carrot/core"; import backend from "${packageName}"; registerBackend("${scheme}", backend)`,
        { cause: error },
      );
    }
    throw error;
  }
  if (!module.default)
    throw new BackendNotInstalledError(
      `${packageName} does not export a backend factory as default; is it a carrot backend?`,
    );
  return toFactory(module.default, scheme);
}

/** The import failed because the package itself is absent (not because something inside it broke). */
function isMissingPackage(error: unknown, packageName: string): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return (
    message.includes(packageName) && /cannot find|failed to (load|resolve)|not found/i.test(message)
  );
}
