/**
 * Checks every ```ts / ```typescript block of the READMEs and the guides in
 * docs/: each is typechecked as a module of a user's project (importing
 * `@carrot/core` and the backends by package name), and the blocks marked
 * `<!-- run -->` are run too, against the brokers of this machine (see
 * markdown-blocks.ts for the markers). Prints each failure at its Markdown
 * line and the counts; exits with 1 on any failure.
 *
 *   node --conditions=@carrot/source --import tsx scripts/docs/check-snippets.ts
 *
 * A runnable block reaches a broker through the variables the test suite
 * uses, with this machine's defaults: `process.env.CARROT_AMQP_URL`,
 * `CARROT_REDIS_URL`, `CARROT_SQS_ENDPOINT` (an SQS emulator is started when
 * a runnable block names `sqs://` and the variable is unset).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { docFiles, ROOT } from "./doc-files.js";
import { type CodeBlock, codeBlocks, TYPESCRIPT_LANGS } from "./markdown-blocks.js";
import { SnippetProject } from "./snippet-project.js";
import { brokerEnvironment, runSnippets } from "./snippet-run.js";
import { typecheckSnippets } from "./snippet-typecheck.js";

const failures: string[] = [];
const blocks: CodeBlock[] = [];
for (const file of docFiles()) {
  let found: CodeBlock[];
  try {
    found = codeBlocks(file, readFileSync(join(ROOT, file), "utf8"));
  } catch (error) {
    failures.push((error as Error).message); // a marker that is none, a fence never closed
    continue;
  }
  for (const block of found) {
    if (TYPESCRIPT_LANGS.has(block.lang)) blocks.push(block);
    else if (block.mode !== "check")
      failures.push(
        `${file}:${block.line}: only TypeScript blocks are run or marked fragments, not '${block.lang || "no language"}'`,
      );
  }
}

const fragments = blocks.filter((block) => block.mode === "fragment");
const project = new SnippetProject(ROOT);
try {
  const checked = blocks.filter((block) => block.mode !== "fragment").map((b) => project.add(b));
  const started = Date.now();
  const typeErrors = typecheckSnippets(ROOT, checked);
  for (const error of typeErrors) failures.push(`${error.file}:${error.line}: ${error.message}`);
  console.log(`typechecked ${checked.length} blocks in ${seconds(Date.now() - started)}`);

  const runnable = checked.filter((snippet) => snippet.block.mode === "run");
  const emulator = runnable.some((s) => s.block.code.includes("sqs://"))
    ? await sqsEndpoint()
    : undefined;
  try {
    for (const result of await runSnippets(
      project.dir,
      runnable,
      brokerEnvironment(emulator?.endpoint),
    )) {
      const where = `${result.snippet.block.file}:${result.snippet.block.line}`;
      console.log(`run ${where}: ${result.ok ? "ok" : "FAILED"} (${seconds(result.ms)})`);
      if (!result.ok) failures.push(`${where}: the block ${result.failure}`);
    }
  } finally {
    await emulator?.stop();
  }

  for (const failure of failures) console.error(failure);
  console.log(
    `docs snippets: ${checked.length} typechecked, ${runnable.length} run, ${fragments.length} fragments (${blocks.length} TypeScript blocks); ${failures.length} failed`,
  );
} finally {
  project.remove();
}
process.exitCode = failures.length > 0 ? 1 : 0;

/** CARROT_SQS_ENDPOINT, or an SQS emulator started as the SQS tests start theirs. */
async function sqsEndpoint(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const endpoint = process.env.CARROT_SQS_ENDPOINT;
  if (endpoint) return { endpoint, stop: async () => undefined };
  const { startEmulator } = await import("../../packages/backend-sqs/test/fauxqs-setup.js");
  return startEmulator();
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
