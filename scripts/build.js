#!/usr/bin/env node
/**
 * Bundles each entry in src/entries into dist/<name>/:
 *   index.js      scripts/bundle-loader.js: maps stack traces back to src/*.ts (reading a map only when
 *                 a stack is formatted), then loads bundle.js;
 *   bundle.js     ncc's output (webpack), minified by terser with dead code removed, plus its map;
 *   N.bundle.js   chunks webpack splits off for dynamic import()s (the SDK's credential providers);
 *   yaml.js       the yaml package, required where it is needed (an ncc external of the action bundles);
 *   licenses.txt  the licenses of what is bundled.
 * Why not ncc --minify: ncc runs terser with compress off, so the exports webpack found unused stay in
 * the output. ES-module TypeScript (src/entries/tsconfig.json) and the packages' `module` builds let
 * webpack see which exports are used; terser then drops the rest (an SDK client's schemas for the
 * commands we never send are most of it).
 * Transpile only: `npm test` type-checks the whole project. Two at a time: the machine and CI have two cores.
 * BUILD_NO_MANGLE=1: names kept (not mangled), for readable CPU profiles; never for dist/.
 */
const fs = require('fs');
const path = require('path');
const { generateValidators, FULL_VALIDATORS_FILE } = require('./schema-validators');

const root = path.resolve(__dirname, '..');
// BUILD_OUT_DIR: bundles go to <dir>/<name>/ instead of dist/<name>/ (tests that build a bundle to run it).
const distRoot = process.env.BUILD_OUT_DIR ? path.resolve(process.env.BUILD_OUT_DIR) : path.join(root, 'dist');
const only = process.argv.slice(2);
// src/entries/NAME.ts, or src/entries/NAME/index.ts with its own tsconfig.json (the CLI) -> dist/NAME/.
const entries = new Map(
  fs
    .readdirSync(path.join(root, 'src', 'entries'), { withFileTypes: true })
    .filter((e) => (e.isDirectory() ? fs.existsSync(path.join(e.parentPath ?? e.path, e.name, 'index.ts')) : e.name.endsWith('.ts')))
    .map((e) => [e.name.replace(/\.ts$/, ''), path.join(root, 'src', 'entries', e.isDirectory() ? path.join(e.name, 'index.ts') : e.name)]),
);
const bundles = [...entries.keys()].filter((name) => only.length === 0 || only.includes(name));


async function minify(code, map, file) {
  let terser;
  try {
    ({ minify: terser } = require('terser'));
  } catch {
    throw new Error('scripts/build.js needs the terser devDependency: npm i -D terser@5');
  }
  // Class names stay: errors and SDK exceptions are reported by their constructor's name.
  const out = await terser(code, {
    compress: true,
    mangle: process.env.BUILD_NO_MANGLE ? false : { keep_classnames: true },
    keep_classnames: true,
    sourceMap: { content: map, filename: file, url: `${file}.map` },
  });
  const parsed = JSON.parse(out.map);
  // Stack traces need the mappings, not a second copy of the sources (the action ships src/ beside dist/).
  delete parsed.sourcesContent;
  return { code: out.code, map: JSON.stringify(parsed) };
}

// Bundles whose bundle.js gets its module factories parenthesised (eagerFactories), where it was measured to help.
const EAGER_BUNDLES = new Set(['estimate-cost']);

const VLQ = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The first field (generated-column delta) of each segment of a source map line, and the rest of the segment as text. */
function splitSegments(line) {
  return line.split(',').map((seg) => {
    let value = 0;
    let shift = 0;
    let i = 0;
    for (;;) {
      const digit = VLQ.indexOf(seg[i++]);
      value += (digit & 31) << shift;
      shift += 5;
      if (!(digit & 32)) break;
    }
    return { delta: value & 1 ? -(value >>> 1) : value >>> 1, rest: seg.slice(i) };
  });
}

function vlq(n) {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v) digit |= 32;
    out += VLQ[digit];
  } while (v);
  return out;
}

/**
 * Each webpack module factory of the minified bundle.js wrapped in parentheses, `4914:(function(e,t,n){…})`
 * (as webpack writes them; terser drops the parentheses): V8 compiles a parenthesised function eagerly
 * when the script is compiled, instead of pre-parsing it then parsing it again at its first call, and
 * nearly every factory of estimate-cost's bundle.js runs on every start (measured: the PR-comment run
 * 0.94x CPU and wall, docs/benchmark.md). Not a code cache: the source changes, V8 decides. The map's
 * generated columns move with the inserted characters.
 */
function eagerFactories(code, map) {
  const acorn = require(require.resolve('acorn', { paths: [path.dirname(require.resolve('terser'))] }));
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script' });
  const inserts = [];
  const isFactory = (v) => v.type === 'FunctionExpression' || v.type === 'ArrowFunctionExpression';
  const visit = (node) => {
    if (!node || typeof node.type !== 'string') return;
    if (node.type === 'ObjectExpression' && node.properties.length > 1 && node.properties.every((p) => p.type === 'Property' && p.key.type === 'Literal' && typeof p.key.value === 'number' && isFactory(p.value))) {
      for (const p of node.properties) inserts.push([p.value.start, '('], [p.value.end, ')']);
      return;
    }
    for (const key of Object.keys(node)) {
      const child = node[key];
      if (Array.isArray(child)) child.forEach(visit);
      else if (child && typeof child === 'object') visit(child);
    }
  };
  visit(ast);
  if (inserts.length === 0) return { code, map };
  inserts.sort((a, b) => a[0] - b[0]);
  let out = '';
  let from = 0;
  for (const [at, text] of inserts) {
    out += code.slice(from, at) + text;
    from = at;
  }
  out += code.slice(from);
  // Line starts of the original code, to turn each insertion offset into (line, column).
  const lineStart = [0];
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) lineStart.push(i + 1);
  const byLine = new Map();
  for (const [at] of inserts) {
    let line = lineStart.length - 1;
    while (lineStart[line] > at) line--;
    if (!byLine.has(line)) byLine.set(line, []);
    byLine.get(line).push(at - lineStart[line]);
  }
  const parsed = JSON.parse(map);
  parsed.mappings = parsed.mappings
    .split(';')
    .map((line, index) => {
      const columns = byLine.get(index);
      if (!columns || !line) return line;
      let column = 0;
      let shifted = 0;
      let next = 0;
      return splitSegments(line)
        .map(({ delta, rest }) => {
          column += delta;
          // Every insertion at or before this column moves it right by one.
          let moved = shifted;
          while (next < columns.length && columns[next] <= column) {
            next++;
            moved++;
          }
          const out = vlq(delta + moved - shifted) + rest;
          shifted = moved;
          return out;
        })
        .join(',');
    })
    .join(';');
  return { code: out, map: JSON.stringify(parsed) };
}

/** The yaml package as one file, for the action bundles' `./yaml.js` external. */
async function bundleYaml(ncc) {
  const result = await ncc(require.resolve('yaml'), { filename: 'yaml.js', minify: false, sourceMap: true, sourceMapRegister: false, sourceMapBasePrefix: '../../', target: 'es2022', quiet: true, filterAssetBase: root, license: 'licenses.txt' });
  return { code: result.code, map: result.map, license: result.assets['licenses.txt']?.source.toString() ?? '' };
}

async function build(name) {
  const ncc = require('@vercel/ncc');
  const out = path.join(distRoot, name);
  // ncc reads tsconfig "paths" from the working directory's tsconfig.json: the root's, the stand-ins as
  // the tests and the type-check see them. Compiler options come from the entry's nearest tsconfig.json.
  process.chdir(root);
  const result = await ncc(entries.get(name), {
    filterAssetBase: root,
    filename: 'bundle.js',
    minify: false,
    sourceMap: true,
    sourceMapRegister: false,
    // Sources are named relative to the working directory; the map is in dist/<name>/.
    sourceMapBasePrefix: `${path.relative(out, root)}/`,
    mainFields: ['module', 'main'],
    // bowser parses a browser's user agent for the SDK's browser runtime; Node never calls it. yaml
    // (spec positions for a message, CloudFormation templates) is yaml.js beside bundle.js: required where it
    // is needed, so an estimate or a validate that points at no line never parses it. The spec's full
    // validators (./schema-validators-full.generated, required when the gate refuses a spec:
    // scripts/schema-validators.js) are schema-validators-full.js beside bundle.js too: a valid spec never
    // parses them. In the CLI both sat in the chunks every validate loads (318 KB of 489 KB).
    externals: { bowser: 'bowser', yaml: './yaml.js', './schema-validators-full.generated': './schema-validators-full.js' },
    target: 'es2022',
    transpileOnly: true,
    license: 'licenses.txt',
    quiet: true,
  });
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const files = [['bundle.js', result.code, result.map]];
  for (const [file, asset] of Object.entries(result.assets)) {
    if (file.endsWith('.js')) files.push([file, asset.source.toString(), result.assets[`${file}.map`]?.source.toString()]);
    else if (!file.endsWith('.js.map')) fs.writeFileSync(path.join(out, file), asset.source);
  }
  if (result.code.includes('require("./yaml.js")')) {
    const yaml = await bundleYaml(ncc);
    files.push(['yaml.js', yaml.code, yaml.map]);
    fs.appendFileSync(path.join(out, 'licenses.txt'), `\n${yaml.license}`);
  }
  if (result.code.includes('require("./schema-validators-full.js")')) {
    const full = await ncc(FULL_VALIDATORS_FILE, { filename: 'schema-validators-full.js', minify: false, sourceMap: true, sourceMapRegister: false, sourceMapBasePrefix: `${path.relative(out, root)}/`, target: 'es2022', quiet: true, filterAssetBase: root });
    files.push(['schema-validators-full.js', full.code, full.map]);
  }
  let bytes = 0;
  for (const [file, code, map] of files) {
    let min = await minify(code, map, file);
    if (file === 'bundle.js' && EAGER_BUNDLES.has(name)) min = eagerFactories(min.code, min.map);
    fs.writeFileSync(path.join(out, file), min.code);
    fs.writeFileSync(path.join(out, `${file}.map`), min.map);
    bytes += Buffer.byteLength(min.code);
  }
  fs.copyFileSync(path.join(__dirname, 'bundle-loader.js'), path.join(out, 'index.js'));
  process.stdout.write(`${path.relative(root, out)}: ${(bytes / 1024).toFixed(0)} KiB of JavaScript in ${files.length} file(s)\n`);
}

/** Each bundle in its own process: webpack is CPU-bound, so two processes use both cores. */
function buildInChild(name) {
  const { execFile } = require('child_process');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [__filename, '--one', name], { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      process.stdout.write(stdout);
      if (err) reject(new Error(`build of ${name} failed:\n${stderr}`));
      else resolve();
    });
  });
}

async function main() {
  if (only[0] === '--one') return build(only[1]);
  // The spec's JSON Schema validators, generated here instead of compiled at every start.
  if (generateValidators({ write: true })) process.stdout.write('src/config/schema-validators*.generated.js regenerated\n');
  const queue = [...bundles];
  const workers = Array.from({ length: 2 }, async () => {
    while (queue.length) await buildInChild(queue.shift());
  });
  await Promise.all(workers);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
