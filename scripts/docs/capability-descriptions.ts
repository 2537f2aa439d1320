import { readFileSync } from "node:fs";
import ts from "typescript";

/** A member of the `Capabilities` interface: its name and the first sentence of its JSDoc. */
export interface CapabilityDescription {
  readonly name: string;
  readonly summary: string;
}

/**
 * The members of the contract's `Capabilities` interface, in their order,
 * each with the first sentence of its documentation: the rows of the
 * capability table come from the contract itself, so a capability added
 * there is a row of the table.
 */
export function capabilityDescriptions(contractPath: string): CapabilityDescription[] {
  const source = ts.createSourceFile(
    contractPath,
    readFileSync(contractPath, "utf8"),
    ts.ScriptTarget.Latest,
    true,
  );
  const capabilities = source.statements.find(
    (node): node is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(node) && node.name.text === "Capabilities",
  );
  if (!capabilities) throw new Error(`${contractPath} declares no Capabilities interface`);
  return capabilities.members.map((member) => {
    if (!member.name || !ts.isIdentifier(member.name))
      throw new Error(`a member of Capabilities in ${contractPath} has no plain name`);
    const doc = ts
      .getJSDocCommentsAndTags(member)
      .filter(ts.isJSDoc)
      .map((jsDoc) => ts.getTextOfJSDocComment(jsDoc.comment) ?? "")
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
    return { name: member.name.text, summary: firstSentence(doc) };
  });
}

/** Up to the first full stop that ends a sentence (not one inside `code` or "e.g."). */
function firstSentence(text: string): string {
  let inCode = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "`") inCode = !inCode;
    if (!inCode && text[i] === "." && (i + 1 === text.length || text[i + 1] === " "))
      return text.slice(0, i + 1);
  }
  return text;
}
