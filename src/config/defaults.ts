/**
 * Defaults: the spec's `defaults:` merged into each deployment (the deployment's own value wins),
 * then the schema's defaults filled in by the generated validators, for deployments and environments.
 */
import { DeployError } from '../core/errors';
import type { Deployment, DeploymentSpec, EnvironmentSpec } from './types';
import { schemaErrors } from './schema-errors';
import type { ParsedYaml } from './yaml-positions';
// Ajv standalone code generated from schema/model-deploy.schema.json (scripts/schema-validators.js):
// compiling the schema at run time took about a second of every start.
import * as validators from './schema-validators.generated';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; lists and scalars from the deployment replace the defaults. */
export function mergeDefaults(defaults: unknown, own: unknown): unknown {
  if (own === undefined) return structuredClone(defaults);
  if (isPlainObject(defaults) && isPlainObject(own)) {
    const out: Record<string, unknown> = structuredClone(defaults);
    for (const [k, v] of Object.entries(own)) out[k] = mergeDefaults(defaults[k], v);
    return out;
  }
  return structuredClone(own);
}

/** The document as written (the schema checked it): defaults are merged per deployment. */
export interface RawSpec {
  project?: string;
  environments?: Record<string, unknown>;
  defaults?: Record<string, unknown>;
  deployments: Record<string, Record<string, unknown>>;
}

/** What a deployment must have from itself or from defaults:, and what it is (the hint). */
const REQUIRED: [keyof DeploymentSpec, string][] = [
  ['model', 'where the weights come from (huggingface, s3 or image)'],
  ['target', 'sagemaker-realtime, sagemaker-async, ec2 or ecs'],
  ['instanceType', 'for example ml.g5.2xlarge'],
  ['regions', 'for example [us-east-1]'],
];

/** One deployment with defaults merged and applied, or the errors that stop it. */
export function resolveDeployment(name: string, own: Record<string, unknown>, raw: RawSpec, yaml: ParsedYaml, file: string): Deployment | DeployError[] {
  const merged = mergeDefaults(raw.defaults ?? {}, own) as Record<string, unknown>;
  const missing = REQUIRED.filter(([k]) => merged[k] === undefined);
  if (missing.length > 0) {
    return missing.map(
      ([k, what]) =>
        new DeployError(`deployments.${name} is missing the required field "${k}"`, {
          location: yaml.locate(['deployments', name], true),
          hint: `${k}: ${what}. Set it on the deployment or under defaults.`,
          title: 'Invalid deployment spec',
        }),
    );
  }
  for (const obj of ['healthCheck', 'rollout', 'async', 'apiKey', 'security', 'build', 'usage', 'tags']) {
    if (merged[obj] === undefined) merged[obj] = {};
  }
  // Both halves were valid alone; a merged failure points at the deployment.
  if (!validators.deployment(merged)) return schemaErrors(validators.deployment.errors ?? [], yaml, ['deployments', name]);
  const d = merged as unknown as DeploymentSpec;
  d.tags = { ...d.tags };
  const project = raw.project ?? 'model-deploy';
  // The line is found when first read (a warning or an error): positions cost a second parse.
  const source = {
    file,
    get line(): number {
      return yaml.locate(['deployments', name], true).line ?? 1;
    },
  };
  return { ...d, name, project, source };
}

/** The environments with the schema's defaults filled in (the document validator checked them). */
export function resolveEnvironments(raw: RawSpec): Record<string, EnvironmentSpec> {
  const environments: Record<string, EnvironmentSpec> = {};
  for (const [name, envRaw] of Object.entries(raw.environments ?? {})) {
    const env = structuredClone(envRaw) as EnvironmentSpec;
    validators.environment(env);
    environments[name] = env;
  }
  return environments;
}
