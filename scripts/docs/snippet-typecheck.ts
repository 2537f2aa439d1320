import { join } from "node:path";
import ts from "typescript";
import type { SnippetFile } from "./snippet-project.js";

/** A compiler error in a code block, placed at its line in the Markdown file. */
export interface SnippetError {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Typechecks the snippets as one program, with the repository's compiler
 * options (strict) and the `@carrot/source` condition, so that they are
 * checked against the packages' sources as they are in this checkout, with
 * no build needed. Only the snippets' own errors are reported: the
 * packages' sources are `pnpm typecheck`'s to check.
 */
export function typecheckSnippets(root: string, snippets: readonly SnippetFile[]): SnippetError[] {
  const options = compilerOptions(root);
  const program = ts.createProgram({
    rootNames: snippets.map((snippet) => snippet.path),
    options,
  });
  const errors: SnippetError[] = [];
  for (const snippet of snippets) {
    const source = program.getSourceFile(snippet.path);
    if (!source) throw new Error(`the compiler did not read ${snippet.path}`);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    for (const diagnostic of diagnostics) {
      const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      errors.push({
        file: snippet.block.file,
        line: snippet.block.line + line,
        message: `TS${diagnostic.code}: ${flatten(diagnostic)}`,
      });
    }
  }
  return errors;
}

/** tsconfig.base.json's options (what the packages compile with), for files that are never emitted. */
function compilerOptions(root: string): ts.CompilerOptions {
  const path = join(root, "tsconfig.base.json");
  const read = ts.readConfigFile(path, ts.sys.readFile);
  if (read.error) throw new Error(`${path}: ${flatten(read.error)}`);
  const { options, errors } = ts.convertCompilerOptionsFromJson(
    read.config.compilerOptions,
    root,
    path,
  );
  if (errors.length > 0) throw new Error(`${path}: ${errors.map(flatten).join("; ")}`);
  return { ...options, noEmit: true, declaration: false, declarationMap: false, sourceMap: false };
}

function flatten(diagnostic: ts.Diagnostic): string {
  return ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
}
