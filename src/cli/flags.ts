/** Command-line flags of every CLI command: `--name value`, `--name=value`, or `--name` alone for "true". */
import { DeployError } from '../core/errors';
import { didYouMean } from '../config/suggest';

export function parseFlags(args: string[], allowed: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw new DeployError(`unexpected argument "${arg}"`, { hint: 'Flags look like --name value.' });
    const [name = '', inline] = arg.slice(2).split(/=(.*)/s, 2);
    let value = inline;
    if (!allowed.includes(name)) {
      throw new DeployError(`unknown flag --${name}`, { hint: `${didYouMean(name, allowed)} Flags: ${allowed.map((a) => `--${a}`).join(', ')}.` });
    }
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) value = 'true';
      else {
        value = next;
        i++;
      }
    }
    flags[name] = value;
  }
  return flags;
}

/** A comma-separated flag as a list (empty items dropped). */
export function listFlag(value: string | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim()).filter(Boolean);
}

/** A yes/no flag: absent is false, `--yes` alone or `--yes true` is true. */
export function booleanFlag(flags: Record<string, string>, name: string): boolean {
  const value = flags[name];
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new DeployError(`--${name} is "${value}", which is not valid`, { hint: `--${name} takes no value (or true / false).` });
}
