/**
 * The bundles are minified; their stack traces must still name the TypeScript sources. The runner
 * runs `node dist/<action>/index.js` with no flags, so the loader maps frames itself (scripts/bundle-loader.js).
 * An unexpected error is made real: GITHUB_OUTPUT is a directory, so writing the first output throws
 * EISDIR, and the action prints the stack as a debug line.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runBundle, ROOT } from '../support/bundle';

function workspace(): string {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'md-sourcemap-'));
  fs.copyFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), path.join(dir, 'model-deploy.yml'));
  return dir;
}

test('a thrown error in a bundle names src/*.ts files with lines in its stack', async () => {
  const ws = workspace();
  const outputDir = path.join(ws, 'output-is-a-directory');
  fs.mkdirSync(outputDir);
  const run = await runBundle('estimate-cost', { workspace: ws, env: { GITHUB_OUTPUT: outputDir } });
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/EISDIR/);
  const stack = run.stdout.split('\n').filter((l) => l.startsWith('::debug::')).join('\n').replace(/%0A/g, '\n');
  // A frame of our own code, at its TypeScript file and line (not bundle.js:1:123456).
  expect(stack).toMatch(new RegExp(`${ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/src/[\\w/-]+\\.ts:\\d+:\\d+`));
  expect(stack).not.toMatch(/bundle\.js:\d+:\d+/);
});
