import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CodeBlock } from "./markdown-blocks.js";

/** A code block written out as a module of a user's project. */
export interface SnippetFile {
  readonly block: CodeBlock;
  /** Absolute path of the module. */
  readonly path: string;
}

/**
 * A throw-away project outside the repository whose `node_modules` is the
 * repository's: its modules import `@carrot/core` and the backends by their
 * package names, as an application does, and the workspace links resolve
 * them to the packages of this checkout.
 */
export class SnippetProject {
  readonly dir = mkdtempSync(join(tmpdir(), "carrot-snippets-"));
  readonly files: SnippetFile[] = [];

  constructor(root: string) {
    writeFileSync(
      join(this.dir, "package.json"),
      `${JSON.stringify({ name: "snippets", private: true, type: "module" })}\n`,
    );
    symlinkSync(join(root, "node_modules"), join(this.dir, "node_modules"), "dir");
  }

  /**
   * Writes one block as `<file>-<line>.ts`. `export {}` makes every block a
   * module, as every file of an ES module project is: top-level `await`
   * works, and a name one block declares is not another block's.
   */
  add(block: CodeBlock): SnippetFile {
    const name = `${block.file.replace(/[^\w.-]+/g, "_")}-${block.line}.ts`;
    const path = join(this.dir, name);
    writeFileSync(path, `${block.code}\nexport {};\n`);
    const file = { block, path };
    this.files.push(file);
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
