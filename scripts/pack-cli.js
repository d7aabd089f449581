#!/usr/bin/env node
// Packs the npm package @model-deploy-actions/cli from the committed bundle: cli-package/ (package.json,
// README.md) + bin/model-deploy.js + dist/cli/ + the templates and examples the CLI reads at run time
// (templates/ beside dist/, as in the repository) + LICENSE, staged in a temporary folder, then `npm pack`.
// The package has no dependencies: dist/cli is self-contained (tests/unit/release/cli-package.test.ts).
//
//   node scripts/pack-cli.js [--out DIR] [--version X.Y.Z] [--repository OWNER/NAME] [--stage DIR]
//
// --out: where the .tgz goes (default .scratch/cli-package). --version: defaults to the root package.json's,
// the version the bundled CLI prints. --repository: the GitHub repository (default $GITHUB_REPOSITORY);
// npm publish --provenance requires the package's repository to be the one the workflow runs in.
// --stage: keep the staging folder there (default: a temporary folder, removed afterwards).
// Prints one JSON line: {"tarball", "name", "version", "size", "unpackedSize", "files"}.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');

/** What goes into the package, relative to the repository root (directories are copied whole). */
const CONTENT = ['bin/model-deploy.js', 'dist/cli', 'templates/bootstrap', 'templates/build', 'templates/serving', 'templates/stacks', 'examples', 'LICENSE'];

function parseArgs(argv) {
  const args = { out: path.join(ROOT, '.scratch', 'cli-package'), version: undefined, repository: process.env.GITHUB_REPOSITORY || undefined, stage: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const key = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !(key in args) || argv[i + 1] === undefined) {
      throw new Error(`usage: pack-cli.js [--out DIR] [--version X.Y.Z] [--repository OWNER/NAME] [--stage DIR] (got ${flag})`);
    }
    args[key] = argv[++i];
  }
  return args;
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true, dereference: true });
}

/** The package.json of the staged package: cli-package/package.json with the version and repository. */
function manifest(version, repository) {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'cli-package', 'package.json'), 'utf8'));
  delete pkg['//'];
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) throw new Error(`not a semver version: ${version}`);
  pkg.version = version;
  if (pkg.dependencies || pkg.optionalDependencies || pkg.peerDependencies) {
    throw new Error('cli-package/package.json must have no dependencies: the bundle in dist/cli holds them');
  }
  if (repository) {
    if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new Error(`--repository must be OWNER/NAME, got ${repository}`);
    pkg.repository = { type: 'git', url: `git+https://github.com/${repository}.git` };
    pkg.homepage = `https://github.com/${repository}#readme`;
    pkg.bugs = { url: `https://github.com/${repository}/issues` };
  }
  return pkg;
}

function stage(dir, { version, repository }) {
  for (const rel of CONTENT) {
    const from = path.join(ROOT, rel);
    if (!fs.existsSync(from)) throw new Error(`${rel} is missing: run npm run build first (dist/ is committed)`);
    copy(from, path.join(dir, rel));
  }
  if (!fs.existsSync(path.join(dir, 'dist', 'cli', 'index.js'))) throw new Error('dist/cli/index.js is missing');
  let readme = fs.readFileSync(path.join(ROOT, 'cli-package', 'README.md'), 'utf8');
  if (repository) readme = readme.replaceAll('OWNER/model-deploy-actions', repository);
  fs.writeFileSync(path.join(dir, 'README.md'), readme);
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest(version, repository), null, 2)}\n`);
}

function pack(args) {
  const version = args.version ?? JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const dir = args.stage ? path.resolve(args.stage) : fs.mkdtempSync(path.join(os.tmpdir(), 'model-deploy-cli-'));
  const out = path.resolve(args.out);
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(out, { recursive: true });
    stage(dir, { version, repository: args.repository });
    const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [result] = JSON.parse(json);
    return {
      tarball: path.join(out, result.filename),
      name: result.name,
      version: result.version,
      size: result.size,
      unpackedSize: result.unpackedSize,
      files: result.files.map((f) => f.path).sort(),
    };
  } finally {
    if (!args.stage) fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { pack, CONTENT };

if (require.main === module) {
  try {
    process.stdout.write(`${JSON.stringify(pack(parseArgs(process.argv.slice(2))))}\n`);
  } catch (err) {
    process.stderr.write(`pack-cli: ${err.message}\n`);
    process.exit(1);
  }
}
