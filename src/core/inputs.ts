/**
 * An action's interface, written once (`as const`): the action.yml files are generated from it
 * (npm run gen:actions), the runner's INPUT_* variables and the CLI's flags are parsed through it,
 * and the TypeScript type of the parsed inputs is derived from it, so no input is ever cast.
 * Every check an input needs lives in its definition: choices, numbers with bounds, patterns.
 */
import { DeployError } from './errors';
import type { Reporter } from './log';

export interface InputDefinition {
  readonly description: string;
  readonly required?: boolean;
  /** The default as the runner would pass it (a string, as in action.yml). */
  readonly default?: string;
  /** How the value is parsed: errors name the input and the valid values. */
  readonly type?: 'string' | 'boolean' | 'integer' | 'number' | 'choice';
  readonly choices?: readonly string[];
  /** Bounds of an integer or number input, inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** A string input must match this (anchored) pattern; `valid` says in words what matches. */
  readonly pattern?: string;
  readonly valid?: string;
  /** A boolean input that cannot be true together with the named one. */
  readonly conflicts?: string;
  /** A token or credential: masked the moment it is read, never echoed in an error. */
  readonly secret?: boolean;
}

export interface OutputDefinition {
  readonly description: string;
}

export interface ActionDefinition {
  /** Folder name under actions/ and dist/. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputs: Readonly<Record<string, InputDefinition>>;
  readonly outputs: Readonly<Record<string, OutputDefinition>>;
}

/** The inputs every deployment-scoped action shares. */
export const COMMON_INPUTS = {
  config: {
    description: 'Path of the deployment spec, relative to the workspace.',
    default: 'model-deploy.yml',
  },
  deployment: {
    description: 'Name of the deployment in the spec (may be omitted when the spec has exactly one).',
  },
  environment: {
    description: 'Environment from the spec (dev, staging, prod...): selects the account, regions and settings.',
  },
  region: {
    description: 'One region to work on (default: every region of the deployment in that environment).',
  },
  'http-proxy': {
    description: "Proxy for this step's AWS, GitHub and Hugging Face requests, http://[user:password@]host:port: the same as setting HTTPS_PROXY and HTTP_PROXY (NO_PROXY still applies). Default: the runner's proxy variables.",
  },
} as const satisfies Record<string, InputDefinition>;

type ValueOf<D extends InputDefinition> = D extends { type: 'choice'; choices: readonly (infer C)[] }
  ? C
  : D extends { type: 'boolean' }
    ? boolean
    : D extends { type: 'integer' | 'number' }
      ? number
      : string;

/** A value is always there when the input is required, boolean, or has a literal default. */
type AlwaysSet<D extends InputDefinition> = D extends { required: true }
  ? true
  : D extends { type: 'boolean' }
    ? true
    : D extends { default: infer V extends string }
      ? V extends `${string}\${{${string}`
        ? false
        : true
      : false;

/** The parsed inputs of an action, typed from its definition. */
export type InputValues<A extends ActionDefinition> = {
  -readonly [K in keyof A['inputs']]: AlwaysSet<A['inputs'][K]> extends true ? ValueOf<A['inputs'][K]> : ValueOf<A['inputs'][K]> | undefined;
};

export type InputSource = (name: string) => string | undefined;

/** What the runner does: INPUT_<NAME> with spaces as underscores, upper-cased. */
export function envInputSource(env: NodeJS.ProcessEnv = process.env): InputSource {
  return (name) => env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
}

export function mapInputSource(values: Record<string, string | undefined>): InputSource {
  return (name) => values[name];
}

/** Input errors name the action too: in a job of several steps, the annotation says which one. */
function inputError(action: string, message: string, hint: string): DeployError {
  return new DeployError(`${action}: ${message}`, { title: message.startsWith('missing') ? 'Missing input' : 'Invalid input', hint });
}

function invalid(name: string, def: InputDefinition, value: string, valid: string): string {
  const shown = def.secret ? '***' : `"${value}"`;
  return `input \`${name}\` is ${shown}, which is not valid: it must be ${valid}`;
}

function inRange(def: InputDefinition): string {
  if (def.min !== undefined && def.max !== undefined) return ` from ${def.min} to ${def.max}`;
  if (def.min !== undefined) return ` of at least ${def.min}`;
  if (def.max !== undefined) return ` of at most ${def.max}`;
  return '';
}

/** Parses one non-empty raw value by its definition; throws the reason (a string) when it is not valid. */
function parseValue(name: string, def: InputDefinition, raw: string): string | number | boolean {
  switch (def.type) {
    case 'choice':
      if (!def.choices?.includes(raw)) throw invalid(name, def, raw, `one of ${(def.choices ?? []).join(', ')}`);
      return raw;
    case 'boolean':
      if (!/^(true|false)$/i.test(raw)) throw invalid(name, def, raw, 'true or false');
      return raw.toLowerCase() === 'true';
    case 'integer':
    case 'number': {
      const n = Number(raw);
      const whole = def.type === 'integer';
      const ok = whole ? /^-?\d+$/.test(raw) : raw !== '' && Number.isFinite(n);
      if (!ok || (def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
        throw invalid(name, def, raw, `${whole ? 'a whole number' : 'a number'}${inRange(def)}`);
      }
      return n;
    }
    default:
      if (def.pattern && !new RegExp(`^(?:${def.pattern})$`).test(raw)) throw invalid(name, def, raw, def.valid ?? `of the form ${def.pattern}`);
      return raw;
  }
}

/**
 * Reads and checks every input of an action at once. Secrets are masked before anything else
 * happens; every missing required input is named in one error.
 */
export function parseInputs<A extends ActionDefinition>(definition: A, source: InputSource, reporter?: Pick<Reporter, 'setSecret'>): InputValues<A> {
  const raw = new Map<string, string>();
  const missing: string[] = [];
  for (const [name, def] of Object.entries(definition.inputs)) {
    let value = (source(name) ?? '').trim();
    // Expression defaults (${{ github.token }}) only mean something to the runner.
    if (value === '' && def.default !== undefined && !def.default.includes('${{')) value = def.default;
    if (def.secret && value) reporter?.setSecret(value);
    if (value === '' && def.required) missing.push(name);
    if (value !== '') raw.set(name, value);
  }
  if (missing.length > 0) {
    const what = `missing required input${missing.length > 1 ? 's' : ''}: ${missing.map((m) => `\`${m}\``).join(', ')}`;
    throw inputError(definition.name, what, missing.map((m) => `${m}: ${definition.inputs[m]?.description ?? ''}`).join('\n'));
  }
  const values: Record<string, string | number | boolean | undefined> = {};
  for (const [name, def] of Object.entries(definition.inputs)) {
    const value = raw.get(name);
    try {
      values[name] = value === undefined ? (def.type === 'boolean' ? false : undefined) : parseValue(name, def, value);
    } catch (reason) {
      throw inputError(definition.name, String(reason), def.description);
    }
  }
  for (const [name, def] of Object.entries(definition.inputs)) {
    if (def.conflicts && values[name] === true && values[def.conflicts] === true) {
      throw inputError(definition.name, `inputs \`${name}\` and \`${def.conflicts}\` are both true: choose one`, def.description);
    }
  }
  return values as InputValues<A>;
}
