// Prints vitest's JSON reports (one per Node version CI ran the suite on) as
// the plain closing line CI reads: "N passed, N failed, N skipped", summed.
// A report that is missing or unreadable counts as one failure.
import { readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  try {
    const report = JSON.parse(readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  } catch (error) {
    console.log(`no test report at ${file}: ${error.message}`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
