import { accessSync, constants, existsSync } from "node:fs";
import { dirname, join, parse } from "node:path";

/**
 * The path of `program` on PATH or in one of `extraDirs` (where packages put
 * server binaries that are not on every user's PATH, such as /usr/sbin), or
 * undefined when it is not installed. Not resolved through links: redis-server
 * is a link to a binary that acts by the name it was called by.
 */
export function findExecutable(
  program: string,
  extraDirs: readonly string[] = [],
): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * The folder of package `name` in the node_modules of `from` or of a folder
 * above it, as Node looks for it; undefined when it is not installed there.
 * (Not require.resolve: packages such as fauxqs export no `package.json`.)
 */
export function findPackageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === parse(dir).root) return undefined;
  }
}
