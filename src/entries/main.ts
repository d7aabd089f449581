// Entry of the root action: `command` picks one of the action bundles, which reads the same inputs.
import * as path from 'path';
import { ACTION_NAMES } from '../actions/names';
import { didYouMean } from '../config/suggest';

declare const __non_webpack_require__: NodeRequire | undefined;

const command = (process.env.INPUT_COMMAND ?? '').trim();
if (!(ACTION_NAMES as readonly string[]).includes(command)) {
  const what = command ? `input \`command\` is "${command}", which is not an action` : 'missing required input: `command`';
  const hint = `${command ? `${didYouMean(command, ACTION_NAMES)} ` : ''}Valid commands: ${ACTION_NAMES.join(', ')}.`;
  process.stdout.write(`::error title=Invalid input::${what}%0A${hint}\n`);
  process.exitCode = 1;
} else {
  // The sibling bundle is loaded at run time, not bundled again into this one.
  const load = typeof __non_webpack_require__ === 'function' ? __non_webpack_require__ : require;
  load(path.join(__dirname, '..', command, 'index.js'));
}
