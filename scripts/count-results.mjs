// Sums the runners' own reports: cargo's "test result:" lines and vitest's JSON
// reports (one per vitest run). Prints "N passed, N failed[, N skipped]" and exits 1
// if anything failed or if a report is missing.

import { readFileSync, existsSync } from 'node:fs';

const [cargoLog, ...vitestJsons] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
let ok = true;

const cargo = existsSync(cargoLog) ? readFileSync(cargoLog, 'utf8') : '';
const lines = [...cargo.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g)];
if (lines.length === 0) ok = false;
for (const m of lines) {
  passed += Number(m[1]);
  failed += Number(m[2]);
  skipped += Number(m[3]);
}

for (const vitestJson of vitestJsons) {
  if (!existsSync(vitestJson)) {
    ok = false;
    continue;
  }
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  if (r.numFailedTestSuites > 0) {
    // A file that fails to load has no test results of its own; count it as a failure.
    failed += r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  }
}
if (vitestJsons.length === 0) ok = false;

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok && failed === 0 ? 0 : 1);
