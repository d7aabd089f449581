/**
 * The bundles are minified; their stack traces must still name the TypeScript sources, at the right
 * line. The runner runs `node dist/<action>/index.js` with no flags, so the loader maps frames itself
 * (scripts/bundle-loader.js) through the maps the build composed (TypeScript -> JavaScript -> bundle).
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

/** `ROOT/src/FILE:LINE:` of the one line of src/FILE that contains `text` (found now, so edits move it). */
function lineOf(file: string, text: string): string {
  const lines = fs.readFileSync(path.join(ROOT, 'src', file), 'utf8').split('\n');
  const at = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  expect(at).toHaveLength(1);
  return `${ROOT}/src/${file}:${at[0]}:`;
}

test('a thrown error in a bundle names the src/*.ts lines of its frames', async () => {
  const ws = workspace();
  const outputDir = path.join(ws, 'output-is-a-directory');
  fs.mkdirSync(outputDir);
  const run = await runBundle('estimate-cost', { workspace: ws, env: { GITHUB_OUTPUT: outputDir } });
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/EISDIR/);
  const frames = run.stdout.split('\n').filter((l) => l.startsWith('::debug::')).join('\n').replace(/%0A/g, '\n').split('\n');
  // The frame that called @actions/core's setOutput, at its TypeScript line (not bundle.js:1:123456,
  // nor the line of the type-stripped JavaScript).
  expect(frames).toContainEqual(expect.stringContaining(`at setOutput (${lineOf('core/log.ts', 'core.setOutput(')}`));
  // An async frame stands at its `await`: the line of that await, not of the statement before it.
  expect(frames).toContainEqual(expect.stringContaining(`at async ${lineOf('core/action.ts', 'await action.run(')}`));
  expect(frames.join('\n')).not.toMatch(/bundle\.js:\d+:\d+/);
});
