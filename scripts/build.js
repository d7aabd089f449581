#!/usr/bin/env node
// Bundles each entry in src/entries with ncc into dist/<name>/index.js (minified, licenses alongside).
// Two at a time: the machine and CI have two cores. Transpile only: `npm test` type-checks the whole project.
const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const only = process.argv.slice(2);
// One bundle per entry: src/entries/NAME.ts -> dist/NAME/index.js.
const bundles = fs
  .readdirSync(path.join(root, 'src', 'entries'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .map((name) => ({ name, src: path.join('src', 'entries', `${name}.ts`), out: path.join('dist', name) }))
  .filter((b) => only.length === 0 || only.includes(b.name));

// Clean whole action folders first, so a deleted entry leaves nothing stale behind.
for (const name of new Set(bundles.map((b) => b.name))) fs.rmSync(path.join(root, 'dist', name), { recursive: true, force: true });

function build(bundle) {
  const out = path.join(root, bundle.out);
  const ncc = path.join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
  const args = [ncc, 'build', bundle.src, '-o', out, '--minify', '--license', 'licenses.txt', '--quiet', '--target', 'es2022', '--transpile-only'];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`ncc failed for ${bundle.src}:\n${stdout}${stderr}`));
      const size = fs.statSync(path.join(out, 'index.js')).size;
      process.stdout.write(`${bundle.out}/index.js ${(size / 1024).toFixed(0)} KiB\n`);
      resolve();
    });
  });
}

(async () => {
  const queue = [...bundles];
  const workers = Array.from({ length: 2 }, async () => {
    while (queue.length) await build(queue.shift());
  });
  await Promise.all(workers);
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
