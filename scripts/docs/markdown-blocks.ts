/**
 * The TypeScript code blocks of a Markdown file, each with what the line
 * before its fence says should be done with it.
 *
 * A block is marked by an HTML comment on the last non-blank line before its
 * opening fence (invisible on GitHub):
 * - no marker: typechecked as a module of its own, as a user's file;
 * - `<!-- run -->`: typechecked, then run; it must exit with 0 by itself;
 * - `<!-- fragment: why -->`: deliberately incomplete (a few lines out of a
 *   larger program), so neither typechecked nor run, but counted.
 * A comment that starts like a marker but is none (`<!-- runs -->`) is an
 * error rather than a block quietly checked the wrong way.
 */

/** What the snippet checker does with a block. */
export type BlockMode = "check" | "run" | "fragment";

/** One fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line number of the first line of code (the one after the opening fence). */
  readonly line: number;
  /** The fence's language tag ("ts", "typescript"...). */
  readonly lang: string;
  readonly mode: BlockMode;
  /** The code, without the fences. */
  readonly code: string;
}

/** The languages whose blocks are TypeScript. */
export const TYPESCRIPT_LANGS: ReadonlySet<string> = new Set(["ts", "typescript"]);

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const MARKER = /^<!--\s*(run|fragment)\b(:[^>]*)?\s*-->$/;
const MARKER_LIKE = /^<!--\s*(run|fragment)/;

/** Every fenced block of `markdown` (any language), in order. */
export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  let previous = ""; // the last non-blank line outside a block
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) {
      if (lines[i]!.trim() !== "") previous = lines[i]!.trim();
      continue;
    }
    const [, indent, fence, lang] = open;
    const start = i + 1;
    let end = start;
    // A fence closes on a line of the same character, at least as long, and nothing else.
    const close = new RegExp(`^\\s*${fence![0] === "`" ? "`" : "~"}{${fence!.length},}\\s*$`);
    while (end < lines.length && !close.test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`${file}:${i + 1}: a code fence that never closes`);
    blocks.push({
      file,
      line: start + 1,
      lang: lang!.toLowerCase(),
      mode: modeOf(file, i + 1, previous),
      code: lines
        .slice(start, end)
        .map((line) => (line.startsWith(indent!) ? line.slice(indent!.length) : line))
        .join("\n"),
    });
    i = end;
    previous = "";
  }
  return blocks;
}

function modeOf(file: string, fenceLine: number, before: string): BlockMode {
  const marker = MARKER.exec(before);
  if (marker) {
    if (marker[1] === "fragment" && !marker[2]?.slice(1).trim()) {
      throw new Error(
        `${file}:${fenceLine}: a fragment says why it is one: <!-- fragment: continues the block above -->`,
      );
    }
    return marker[1] as BlockMode;
  }
  if (MARKER_LIKE.test(before)) {
    throw new Error(
      `${file}:${fenceLine}: '${before}' is not a snippet marker; write <!-- run --> or <!-- fragment: why -->`,
    );
  }
  return "check";
}
