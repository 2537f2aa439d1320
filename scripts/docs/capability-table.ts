/**
 * The capability table of docs/choosing-a-backend.md, generated from each
 * backend's own `capabilities` (capability-sources.ts) and the contract's
 * description of each capability (capability-descriptions.ts), between the
 * markers `<!-- capability-table:begin -->` and `<!-- capability-table:end -->`.
 *
 *   node --conditions=@carrot/source --import tsx scripts/docs/capability-table.ts          # check: exit 1 if stale
 *   node --conditions=@carrot/source --import tsx scripts/docs/capability-table.ts --write  # regenerate
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Capabilities } from "@carrot/core/backend";
import { capabilityDescriptions } from "./capability-descriptions.js";
import { BACKEND_COLUMNS, type BackendColumn } from "./capability-sources.js";
import { ROOT } from "./doc-files.js";

const TABLE_FILE = "docs/choosing-a-backend.md";
const BEGIN = "<!-- capability-table:begin";
const END = "<!-- capability-table:end -->";
const COMMAND = "node --conditions=@carrot/source --import tsx scripts/docs/capability-table.ts";

/** The table as Markdown, with the comment that opens it. */
function capabilityTable(): string {
  const rows = capabilityDescriptions(join(ROOT, "packages/core/src/contract.ts"));
  const header = BACKEND_COLUMNS.map(
    (column) =>
      `[${column.broker}](../packages/${column.packageName.replace("@carrot/", "")}) ${column.factory.schemes.map((scheme) => `\`${scheme}://\``).join(" ")}`,
  );
  return [
    `${BEGIN} generated from each backend's capabilities by \`${COMMAND} --write\`; do not edit -->`,
    "",
    `| capability | ${header.join(" | ")} |`,
    `| --- | ${header.map(() => "---").join(" | ")} |`,
    ...rows.map(
      ({ name, summary }) =>
        `| \`${name}\`: ${summary} | ${BACKEND_COLUMNS.map((column) => cell(column, name)).join(" | ")} |`,
    ),
    "",
    END,
  ].join("\n");
}

/** One backend's value; where its variants differ, each with when it applies. */
function cell(column: BackendColumn, name: string): string {
  const values = column.variants.map((variant) => ({
    when: variant.when,
    text: shown(variant.capabilities[name as keyof Capabilities]),
  }));
  if (values.every((value) => value.text === values[0]!.text)) return values[0]!.text;
  return values.map((value) => `${value.text} (${value.when})`).join("; ");
}

function shown(value: unknown): string {
  if (value === undefined || value === false) return "no";
  if (value === true) return "yes";
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(", ");
  if (typeof value === "number") return bytes(value);
  return String(value);
}

function bytes(n: number): string {
  const MiB = 1024 * 1024;
  if (n % MiB === 0) return `${n / MiB} MiB`;
  return `${n.toLocaleString("en-US")} bytes`;
}

/** The document with its table replaced by `table`. */
function withTable(document: string, table: string): string {
  const begin = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (begin < 0 || end < begin)
    throw new Error(`${TABLE_FILE} lacks the markers '${BEGIN} -->' and '${END}'`);
  return document.slice(0, begin) + table + document.slice(end + END.length);
}

const path = join(ROOT, TABLE_FILE);
const current = readFileSync(path, "utf8");
const fresh = withTable(current, capabilityTable());
if (process.argv.includes("--write")) {
  if (fresh !== current) writeFileSync(path, fresh);
  console.log(
    `capability table: ${fresh === current ? "already fresh" : "written"} in ${TABLE_FILE}`,
  );
} else if (fresh === current) {
  console.log(`capability table: fresh in ${TABLE_FILE}`);
} else {
  console.error(
    `capability table: ${TABLE_FILE} is stale (a backend's capabilities or the contract changed); regenerate it: ${COMMAND} --write`,
  );
  process.exitCode = 1;
}
