#!/usr/bin/env node
// What a release of VERSION does, given the release tags that already exist (for .github/workflows/release.yml):
//   version, tag (vX.Y.Z), major (vX), prerelease (X.Y.Z-rc.1 ...), latest (the highest stable release of all:
//   GitHub's "latest" release and npm's `latest` dist-tag), move-major (the highest stable release of its major:
//   only then does vX move to it, so a 1.2.4 fix released after 1.3.0 leaves v1 on 1.3.0), npm-tag.
// Refuses a version that is not X.Y.Z[-pre], and one that differs from package.json's "version" (the
// version the CLI prints and the npm package carries): bump package.json, rebuild dist/, then tag.
//
//   node scripts/release-version.js VERSION [package.json]   (VERSION: 1.2.3, v1.2.3 or refs/tags/v1.2.3;
//   the existing tags are read with `git tag --list 'v*'`; prints key=value lines for $GITHUB_OUTPUT)
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { normalizeVersion } = require('./changelog-section');

const STABLE_TAG = /^v(\d+)\.(\d+)\.(\d+)$/;

function parts(version) {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?/.exec(version);
  if (!m) throw new Error(`not a release version: ${version}`);
  return { nums: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] };
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** The plan of a release of `rawVersion` among `tags` (existing git tags; other tags are ignored). */
function releasePlan(rawVersion, tags, packageVersion) {
  const version = normalizeVersion(rawVersion);
  if (packageVersion !== undefined && packageVersion !== version) {
    throw new Error(`package.json has version ${packageVersion}, the release is ${version}: set "version": "${version}" in package.json, run npm run build, commit, then tag`);
  }
  const { nums, pre } = parts(version);
  const stable = tags
    .map((t) => STABLE_TAG.exec(t.trim()))
    .filter(Boolean)
    .map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
  const prerelease = pre !== undefined;
  const highestOf = (list) => list.reduce((best, v) => (best && compare(best, v) >= 0 ? best : v), undefined);
  const highest = highestOf(stable);
  const highestInMajor = highestOf(stable.filter((v) => v[0] === nums[0]));
  // The release's own tag is usually among `tags` already (it triggered the workflow): ">=" counts it.
  const latest = !prerelease && (!highest || compare(nums, highest) >= 0);
  const moveMajor = !prerelease && (!highestInMajor || compare(nums, highestInMajor) >= 0);
  return {
    version,
    tag: `v${version}`,
    major: `v${nums[0]}`,
    prerelease,
    latest,
    'move-major': moveMajor,
    'npm-tag': prerelease ? 'next' : latest ? 'latest' : `maintenance-${nums[0]}`,
  };
}

module.exports = { releasePlan };

if (require.main === module) {
  const [version, pkgFile = path.join(__dirname, '..', 'package.json')] = process.argv.slice(2);
  try {
    const tags = execFileSync('git', ['tag', '--list', 'v*'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const plan = releasePlan(version, tags, JSON.parse(fs.readFileSync(pkgFile, 'utf8')).version);
    process.stdout.write(Object.entries(plan).map(([k, v]) => `${k}=${v}\n`).join(''));
  } catch (err) {
    process.stderr.write(`release-version: ${err.message}\n`);
    process.exit(1);
  }
}
