import { describe, expect, it } from "vitest";
import { codeBlocks } from "../markdown-blocks.js";

const fence = "```";

describe("codeBlocks", () => {
  it("finds each block with its language, its first code line and its marker", () => {
    const markdown = [
      "# Title", // 1
      "", // 2
      "<!-- run -->", // 3
      `${fence}ts`, // 4
      "const a = 1;", // 5
      fence, // 6
      "text", // 7
      `${fence}sh`, // 8
      "echo hi", // 9
      fence, // 10
      "<!-- fragment: the lines of a larger file -->", // 11
      "", // 12
      `${fence}typescript`, // 13
      "b();", // 14
      fence, // 15
    ].join("\n");
    expect(codeBlocks("f.md", markdown)).toEqual([
      { file: "f.md", line: 5, lang: "ts", mode: "run", code: "const a = 1;" },
      { file: "f.md", line: 9, lang: "sh", mode: "check", code: "echo hi" },
      { file: "f.md", line: 14, lang: "typescript", mode: "fragment", code: "b();" },
    ]);
  });

  it("takes a marker from the last non-blank line only, and for one block", () => {
    const markdown = ["<!-- run -->", "text", `${fence}ts`, "a", fence, `${fence}ts`, "b", fence];
    expect(codeBlocks("f.md", markdown.join("\n")).map((block) => block.mode)).toEqual([
      "check",
      "check",
    ]);
  });

  it("strips the indentation of a block inside a list item", () => {
    const markdown = [
      "- item",
      "  <!-- run -->",
      `  ${fence}ts`,
      "  a();",
      "    b();",
      `  ${fence}`,
    ];
    expect(codeBlocks("f.md", markdown.join("\n"))).toEqual([
      { file: "f.md", line: 4, lang: "ts", mode: "run", code: "a();\n  b();" },
    ]);
  });

  it("keeps a shorter fence inside a longer one as code", () => {
    const markdown = ["````md", `${fence}ts`, "x", fence, "````"];
    expect(codeBlocks("f.md", markdown.join("\n"))).toEqual([
      { file: "f.md", line: 2, lang: "md", mode: "check", code: `${fence}ts\nx\n${fence}` },
    ]);
  });

  it("refuses what looks like a marker but is none, a fragment without a reason, an open fence", () => {
    expect(() => codeBlocks("f.md", `<!-- runs -->\n${fence}ts\nx\n${fence}`)).toThrow(
      "f.md:2: '<!-- runs -->' is not a snippet marker",
    );
    expect(() => codeBlocks("f.md", `<!-- fragment -->\n${fence}ts\nx\n${fence}`)).toThrow(
      "f.md:2: a fragment says why it is one",
    );
    expect(() => codeBlocks("f.md", `text\n${fence}ts\nx`)).toThrow(
      "f.md:2: a code fence that never closes",
    );
  });
});
