/**
 * Defaults: the spec's `defaults:` merged into each deployment (the deployment's own value wins),
 * then the schema's defaults filled in by the generated validators, for deployments and environments.
 */
import { DeployError } from '../core/errors';
import type { DeploymentDraft, DeploymentFields, EnvironmentSpec, RequiredField, Section } from './types';
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

/** What each required field is, for the hint when neither the deployment nor `defaults:` gives it. */
const REQUIRED: [RequiredField, string][] = [
  ['model', 'where the weights come from (huggingface, s3 or image)'],
  ['target', 'sagemaker-realtime, sagemaker-async, ec2, ecs, or bedrock for a Bedrock custom model'],
  ['instanceType', 'for example ml.g5.2xlarge'],
  ['regions', 'for example [us-east-1]'],
];

const SECTIONS: Section[] = ['healthCheck', 'rollout', 'async', 'apiKey', 'security', 'build', 'usage', 'tags'];

/** Every required field and section there: DeploymentFields as a deployment has them once resolved. */
function complete(f: DeploymentFields): f is DeploymentFields & Required<Pick<DeploymentFields, RequiredField | Section>> {
  return [...REQUIRED.map(([k]) => k), ...SECTIONS].every((k) => f[k] !== undefined);
}

/** One deployment with defaults merged and applied, or the errors that stop it. */
export function resolveDeployment(name: string, own: Record<string, unknown>, raw: RawSpec, yaml: ParsedYaml, file: string): DeploymentDraft | DeployError[] {
  const merged = mergeDefaults(raw.defaults ?? {}, own) as Record<string, unknown>;
  for (const section of SECTIONS) {
    if (merged[section] === undefined) merged[section] = {};
  }
  // target: bedrock never comes here (the loader resolves those apart: ./bedrock.ts).
  if (validators.deployment(merged) && complete(merged) && merged.target !== 'bedrock') {
    const project = raw.project ?? 'model-deploy';
    // The line is found when first read (a warning or an error): positions cost a second parse.
    const source = {
      file,
      get line(): number {
        return yaml.locate(['deployments', name], true).line ?? 1;
      },
    };
    // instanceType written as one type or as the ordered list of the capacity fallback (schema: a string or strings).
    const instanceTypes = ([] as string[]).concat(merged.instanceType as string | string[]);
    return { ...merged, target: merged.target, instanceType: instanceTypes[0] ?? '', instanceTypes, tags: { ...merged.tags }, name, project, source };
  }
  // A missing field is said as such, whatever else the schema found (no schema default supplies one).
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
  // Both halves were valid alone; a merged failure points at the deployment.
  return schemaErrors(validators.deployment.errors ?? [], yaml, ['deployments', name]);
}

/** The environments with the schema's defaults filled in (the document validator checked them). */
export function resolveEnvironments(raw: RawSpec): Record<string, EnvironmentSpec> {
  const environments: Record<string, EnvironmentSpec> = {};
  for (const [name, envRaw] of Object.entries(raw.environments ?? {})) {
    const env = structuredClone(envRaw);
    if (validators.environment(env)) environments[name] = env;
  }
  return environments;
}
