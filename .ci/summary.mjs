// Prints vitest's JSON reports (one per Node version CI ran the suite on) as
// the plain closing line CI reads: "N passed, N failed, N skipped", summed.
// Each failed test is named first (report, file, test, the error's first
// line), because only the tail of a CI log is kept.
// A report that is missing or unreadable counts as one failure, and so does
// a test file that failed before any of its tests ran.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  try {
    const report = JSON.parse(readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    for (const suite of report.testResults) {
      for (const test of suite.assertionResults) {
        if (test.status !== "failed") continue;
        const reason = (test.failureMessages[0] ?? "").split("\n")[0];
        console.log(
          `FAILED (${file}) ${relative(process.cwd(), suite.name)} > ${test.fullName}: ${reason}`,
        );
      }
      if (suite.status === "failed" && suite.assertionResults.length === 0) {
        failed += 1; // a file that failed before any test ran (an import, a hook)
        console.log(
          `FAILED (${file}) ${relative(process.cwd(), suite.name)}: ${suite.message.split("\n")[0]}`,
        );
      }
    }
  } catch (error) {
    console.log(`no test report at ${file}: ${error.message}`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
