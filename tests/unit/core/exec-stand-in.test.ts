/**
 * The bundles and the tests map @actions/exec to src/core/exec-stand-in.js (tsconfig.json "paths",
 * jest.config.js): @actions/core's index imports it for `platform` alone. Checked in a plain Node
 * process, whose require cache shows what was evaluated.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

const script = `
const standIn = require(${JSON.stringify(path.join(__dirname, '..', '..', '..', 'src', 'core', 'exec-stand-in.js'))});
const loaded = () => Object.keys(require.cache).some((f) => /@actions[\\\\/]exec[\\\\/]lib[\\\\/]exec\\.js$/.test(f));
// What TypeScript's CommonJS output (@actions/core's platform.js) does with the module it requires.
const star = standIn && standIn.__esModule ? standIn : { ...standIn };
const afterImport = loaded();
const fn = typeof star.getExecOutput;
process.stdout.write(JSON.stringify({ same: star === standIn, afterImport, fn, afterUse: loaded(), keys: Object.keys(star).sort() }));
`;

describe('the @actions/exec stand-in of the action bundles', () => {
  it('is not evaluated by an import (__esModule is answered without it), and is the package once used', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
     
    const real = require('@actions/exec/lib/exec') as Record<string, unknown>;
    expect(out).toEqual({ same: true, afterImport: false, fn: 'function', afterUse: true, keys: Object.keys(real).sort() });
  });
});
