#!/usr/bin/env node
// The release notes of one version: its section of CHANGELOG.md (Keep a Changelog: "## [1.2.3] - 2025-01-31"),
// without the heading, up to the next "## " heading or the link references at the end.
// Fails (exit 1) when the version has no section, its heading has no release date (YYYY-MM-DD: a
// placeholder such as "YYYY-MM-DD" is refused too) or the section is empty: a release is not published
// without its notes.
//
//   node scripts/changelog-section.js 1.2.3 [CHANGELOG.md]     (a leading "v" or "refs/tags/v" is accepted)
'use strict';
const fs = require('fs');
const path = require('path');

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** "v1.2.3" or "refs/tags/v1.2.3" -> "1.2.3"; throws on anything that is not a version. */
function normalizeVersion(raw) {
  const version = String(raw ?? '').trim().replace(/^refs\/tags\//, '').replace(/^v/, '');
  if (!SEMVER.test(version)) throw new Error(`not a release version: "${raw}" (expected X.Y.Z or vX.Y.Z)`);
  return version;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The body of the version's section, trimmed; throws when it is missing or empty, or (unless
 * `requireDate: false`) when its heading carries no real date.
 */
function changelogSection(text, rawVersion, { requireDate = true } = {}) {
  const version = normalizeVersion(rawVersion);
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  // "## [1.2.3]", "## [1.2.3] - date", "## 1.2.3 - date" (the brackets are optional in the wild).
  const heading = new RegExp(`^##\\s+\\[?v?${escape(version)}\\]?(?:\\s|$)`);
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) throw new Error(`CHANGELOG has no section for ${version} (add "## [${version}] - YYYY-MM-DD" with the release notes)`);
  if (requireDate) {
    const date = /\s-\s(\d{4})-(\d{2})-(\d{2})\s*$/.exec(lines[start]);
    const valid = date && !Number.isNaN(Date.parse(`${date[1]}-${date[2]}-${date[3]}T00:00:00Z`)) && +date[2] >= 1 && +date[2] <= 12;
    if (!valid) throw new Error(`the CHANGELOG heading for ${version} has no release date: "${lines[start]}" (write "## [${version}] - YYYY-MM-DD" with the real date)`);
  }
  const body = [];
  for (const line of lines.slice(start + 1)) {
    if (/^##?\s/.test(line)) break; // the next version (or a new top-level title)
    if (/^\[[^\]]+\]:\s*\S/.test(line)) break; // link reference definitions close the file
    body.push(line);
  }
  const notes = body.join('\n').trim();
  if (!notes) throw new Error(`the CHANGELOG section for ${version} is empty`);
  return notes;
}

module.exports = { changelogSection, normalizeVersion };

if (require.main === module) {
  const [version, file = path.join(__dirname, '..', 'CHANGELOG.md')] = process.argv.slice(2);
  try {
    process.stdout.write(`${changelogSection(fs.readFileSync(file, 'utf8'), version)}\n`);
  } catch (err) {
    process.stderr.write(`changelog-section: ${err.message}\n`);
    process.exit(1);
  }
}
