/**
 * An action's interface, written once: the action.yml files are generated from these
 * (npm run gen:actions), the runner reads inputs through them, and the CLI maps flags onto them.
 */
export interface InputDefinition {
  description: string;
  required?: boolean;
  /** The default as the runner would pass it (a string, as in action.yml). */
  default?: string;
  /** How the value is parsed: errors name the input and the valid values. */
  type?: 'string' | 'boolean' | 'integer' | 'number' | 'choice';
  choices?: readonly string[];
  /** A token or credential: masked the moment it is read. */
  secret?: boolean;
}

export interface OutputDefinition {
  description: string;
}

export interface ActionDefinition {
  /** Folder name under actions/ and dist/. */
  name: string;
  title: string;
  description: string;
  inputs: Record<string, InputDefinition>;
  outputs: Record<string, OutputDefinition>;
}

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
    description: "One region to work on (default: every region of the deployment in that environment).",
  },
} satisfies Record<string, InputDefinition>;
