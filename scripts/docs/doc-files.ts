import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The Markdown files whose code blocks are checked, relative to the root:
 * the README, each package's README and the guides in docs/ (not the
 * generated API reference or benchmark results below it).
 */
export function docFiles(): string[] {
  const packages = readdirSync(join(ROOT, "packages"))
    .map((name) => `packages/${name}/README.md`)
    .filter((file) => existsSync(join(ROOT, file)));
  const guides = readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`);
  return ["README.md", ...packages.sort(), ...guides.sort()];
}
