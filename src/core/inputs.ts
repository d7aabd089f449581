/**
 * Reads an action's inputs through its definition: the runner's INPUT_* variables in an action,
 * flags in the CLI. Defaults, required inputs and parsing live in the definition; errors name the
 * input and say what is valid.
 */
import type { ActionDefinition } from '../actions/definitions/types';
import { DeployError } from './errors';
import type { Reporter } from './log';

export type InputSource = (name: string) => string | undefined;

/** What the runner does: INPUT_<NAME> with spaces as underscores, upper-cased. */
export function envInputSource(env: NodeJS.ProcessEnv = process.env): InputSource {
  return (name) => env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
}

export function mapInputSource(values: Record<string, string | undefined>): InputSource {
  return (name) => values[name];
}

export class Inputs {
  private readonly values = new Map<string, string>();

  constructor(readonly definition: ActionDefinition, source: InputSource, reporter?: Reporter) {
    const missing: string[] = [];
    for (const [name, def] of Object.entries(definition.inputs)) {
      let value = (source(name) ?? '').trim();
      // Expression defaults (${{ github.token }}) only mean something to the runner.
      if (value === '' && def.default !== undefined && !def.default.includes('${{')) value = def.default;
      if (value === '' && def.required) missing.push(name);
      if (def.secret && value) reporter?.setSecret(value);
      if (value !== '') this.values.set(name, value);
    }
    if (missing.length > 0) {
      throw new DeployError(
        `missing required input${missing.length > 1 ? 's' : ''}: ${missing.map((m) => `\`${m}\``).join(', ')}`,
        {
          title: 'Missing input',
          hint: missing.map((m) => `${m}: ${definition.inputs[m].description}`).join('\n'),
        },
      );
    }
    for (const [name, def] of Object.entries(definition.inputs)) {
      const value = this.values.get(name);
      if (value === undefined) continue;
      if (def.type === 'choice' && def.choices && !def.choices.includes(value)) {
        throw this.invalid(name, value, `one of ${def.choices.join(', ')}`);
      }
      if (def.type === 'boolean' && !/^(true|false|True|False|TRUE|FALSE)$/.test(value)) {
        throw this.invalid(name, value, 'true or false');
      }
      if (def.type === 'integer' && !/^-?\d+$/.test(value)) throw this.invalid(name, value, 'a whole number');
      if (def.type === 'number' && !Number.isFinite(Number(value))) throw this.invalid(name, value, 'a number');
    }
  }

  private invalid(name: string, value: string, valid: string): DeployError {
    const shown = this.definition.inputs[name].secret ? '***' : `"${value}"`;
    return new DeployError(`input \`${name}\` is ${shown}, which is not valid: it must be ${valid}`, {
      title: 'Invalid input',
      hint: this.definition.inputs[name].description,
    });
  }

  private check(name: string): void {
    if (!(name in this.definition.inputs)) throw new Error(`${this.definition.name} has no input named ${name}`);
  }

  /** The value, or undefined when empty. */
  optional(name: string): string | undefined {
    this.check(name);
    return this.values.get(name);
  }

  string(name: string): string {
    const v = this.optional(name);
    if (v === undefined) throw new DeployError(`input \`${name}\` is empty`, { title: 'Missing input', hint: this.definition.inputs[name].description });
    return v;
  }

  bool(name: string): boolean {
    return (this.optional(name) ?? 'false').toLowerCase() === 'true';
  }

  number(name: string): number | undefined {
    const v = this.optional(name);
    return v === undefined ? undefined : Number(v);
  }

  all(): Record<string, string> {
    return Object.fromEntries(this.values);
  }
}
