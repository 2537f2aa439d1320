import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh directory holding these files (paths relative to it). Each call is
 * a new directory, so Node's module caches never serve an earlier test's file.
 */
export function settingsDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "carrot-settings-"));
  made.push(dir);
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

/** The ESM text of a module exporting each setting by name. */
export function esmSettings(settings: Record<string, unknown>): string {
  return Object.entries(settings)
    .map(([name, value]) => `export const ${name} = ${JSON.stringify(value)};\n`)
    .join("");
}
