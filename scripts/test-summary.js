#!/usr/bin/env node
// Prints jest's result as one plain closing line: "N passed, N failed, N skipped".
const fs = require('fs');
const file = process.argv[2] || '.jest-results.json';
if (!fs.existsSync(file)) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrorTestSuites || 0)} failed, ${skipped} skipped`);
process.exit(r.success ? 0 : 1);
