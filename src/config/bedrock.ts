/**
 * `target: bedrock` deployments: a Bedrock custom model (model.bedrock, its ARN in the source account) that
 * promote-model copies into each region of a target environment and serves through provisioned throughput
 * (bedrockThroughput). The loader resolves them here, apart from the other deployments: they have no instance
 * type, engine, image or stack, so no field of those may be written on them, and nothing that builds,
 * deploys or prices instances ever sees one.
 */
import { isAccountId, parseArn } from '../core/arn';
import { isPartition, partitionOf } from '../core/aws';
import { DeployError } from '../core/errors';
import { didYouMean } from './suggest';
import type { BedrockDeployment, BedrockThroughputSpec, EnvironmentSpec, Region } from './types';
import type { RawSpec } from './defaults';
import { kmsKeyRegionProblem } from './region-truth';
import { regionsFor } from './regions';
import type { ParsedYaml, PathPart } from './yaml-positions';

export const BEDROCK_TARGET = 'bedrock';

/** What a `target: bedrock` deployment may say; every other field is another target's. */
const BEDROCK_FIELDS = ['description', 'model', 'target', 'regions', 'bedrockThroughput', 'tags'] as const;
/** What it may take from `defaults:` (the rest of `defaults:` is for the other targets). */
type FromDefaults = 'regions' | 'bedrockThroughput' | 'tags';

/** Why a field of the other targets means nothing here, for the message. */
const WHY: Record<string, string> = {
  instanceType: 'Bedrock serves the custom model on provisioned throughput (bedrockThroughput.modelUnits), not on instances',
  instanceCount: 'Bedrock serves the custom model on provisioned throughput (bedrockThroughput.modelUnits), not on instances',
  autoscaling: 'provisioned throughput is bought in fixed model units (bedrockThroughput.modelUnits)',
  engine: 'Bedrock serves the custom model itself: there is no engine or image to build',
  build: 'Bedrock serves the custom model itself: there is no image to build',
};

export interface BedrockModelArn {
  partition: string;
  region: string;
  account: string;
  arn: string;
  /** The base model's id as the custom model ARN names it (amazon.titan-text-express-v1:0:8k); undefined for an imported model. */
  baseModel?: string;
}

/** A custom (or base) model ARN of one region and account: arn:PARTITION:bedrock:REGION:ACCOUNT:[custom-]model/NAME. */
export function parseBedrockModelArn(arn: string): BedrockModelArn | undefined {
  const parts = parseArn(arn);
  if (!parts || parts.service !== 'bedrock' || !isPartition(parts.partition) || !parts.region || !isAccountId(parts.account)) return undefined;
  if (!/^(custom-)?model\/\S+$/.test(parts.resource)) return undefined;
  // custom-model/BASE[:VERSION[:CONTEXT]]/ID (the Bedrock API reference's CustomModelSummary.modelArn pattern); "imported" has no base.
  const [, base] = /^custom-model\/([^/]+)\/[^/]+$/.exec(parts.resource) ?? [];
  return { partition: parts.partition, region: parts.region, account: parts.account, arn, ...(base && base !== 'imported' ? { baseModel: base } : {}) };
}

/** The effective target of a deployment as written: its own, else the one under `defaults:`. */
export function writtenTarget(own: Record<string, unknown>, raw: RawSpec): unknown {
  return own.target ?? raw.defaults?.target;
}

const invalid = (message: string, yaml: ParsedYaml, p: PathPart[], hint: string) => new DeployError(message, { location: yaml.locate(p, true), hint, title: 'Invalid deployment spec' });

/**
 * One `target: bedrock` deployment as written (the schema checked each field's shape), or every reason it is
 * refused: a field of another target, a model that is not a Bedrock custom model, no regions, a model of an
 * account no environment has, a model in a region its source environment does not run in, or regions in another
 * partition than the model's.
 */
export function resolveBedrockDeployment(name: string, own: Record<string, unknown>, raw: RawSpec, yaml: ParsedYaml, file: string, environments: Record<string, EnvironmentSpec>): BedrockDeployment | DeployError[] {
  const at = (...p: PathPart[]): PathPart[] => ['deployments', name, ...p];
  const errors: DeployError[] = [];
  const allowed = `A target: bedrock deployment takes ${BEDROCK_FIELDS.join(', ')}; serve a model on SageMaker, EC2 or ECS in a deployment of its own.`;
  for (const field of Object.keys(own)) {
    if ((BEDROCK_FIELDS as readonly string[]).includes(field)) continue;
    const why = WHY[field] ?? 'it is a field of the SageMaker, EC2 and ECS targets';
    errors.push(invalid(`deployments.${name}.${field} is set, and the deployment is target: bedrock: ${why}`, yaml, at(field), `Remove ${field}. ${allowed}`));
  }
  const model = (own.model ?? {}) as Record<string, unknown>;
  const arn = typeof model.bedrock === 'string' ? model.bedrock : undefined;
  if (!arn) {
    errors.push(
      invalid(`deployments.${name} is target: bedrock and has no model.bedrock`, yaml, own.model ? at('model') : at(), 'Name the custom model promoted: model: { bedrock: arn:aws:bedrock:REGION:ACCOUNT:custom-model/BASE_MODEL/ID } (aws bedrock list-custom-models). A Hugging Face, S3 or image model is served by the sagemaker-*, ec2 or ecs targets.'),
    );
  }
  for (const field of Object.keys(model).filter((k) => k !== 'bedrock')) {
    errors.push(invalid(`deployments.${name}.model.${field} is set, and the deployment is target: bedrock: the custom model (model.bedrock) is all Bedrock needs`, yaml, at('model', field), `Remove model.${field}.`));
  }
  const pick = (k: FromDefaults): unknown => own[k] ?? raw.defaults?.[k];
  const regions = pick('regions') as Region[] | undefined;
  if (!regions) errors.push(invalid(`deployments.${name} is missing the required field "regions"`, yaml, at(), 'regions: where the model is copied, for example [us-east-1]. Set it on the deployment or under defaults (an environment\'s regions narrow it).'));
  const parsed = arn ? parseBedrockModelArn(arn) : undefined;
  const sourceEnvironment = parsed ? Object.keys(environments).find((n) => environments[n]?.account === parsed.account) : undefined;
  if (parsed && !sourceEnvironment) {
    const listed = Object.entries(environments).map(([n, e]) => `${n} (${e.account})`);
    errors.push(
      invalid(`deployments.${name}.model.bedrock is a model of account ${parsed.account}, which is no environment of the spec`, yaml, at('model', 'bedrock'), `promote-model copies the model from the environment that holds it: add that account under environments:, or name its model.${listed.length ? ` Environments: ${listed.join(', ')}.` : ''}`),
    );
  }
  if (parsed && regions) errors.push(...partitionErrors(name, parsed, regions, environments, yaml));
  if (parsed && regions && sourceEnvironment) errors.push(...sourceRegionErrors(name, parsed, regions, sourceEnvironment, environments[sourceEnvironment], yaml));
  if (regions) errors.push(...keyErrors(name, sourceEnvironment, regions, environments, yaml));
  if (errors.length) return errors;
  const description = own.description as string | undefined;
  const bedrockThroughput = pick('bedrockThroughput') as BedrockThroughputSpec | undefined;
  const tags = { ...((raw.defaults?.tags as Record<string, string> | undefined) ?? {}), ...((own.tags as Record<string, string> | undefined) ?? {}) };
  return {
    name,
    project: raw.project ?? 'model-deploy',
    target: 'bedrock',
    ...(description !== undefined ? { description } : {}),
    model: { bedrock: arn! },
    regions: regions!,
    ...(bedrockThroughput ? { bedrockThroughput } : {}),
    tags,
    sourceEnvironment: sourceEnvironment!,
    source: {
      file,
      get line(): number {
        return yaml.locate(['deployments', name], true).line ?? 1;
      },
    },
  };
}

/** Bedrock copies a custom model within its partition only: every region it goes to, in every environment, is of the model's. */
function partitionErrors(name: string, model: BedrockModelArn, regions: Region[], environments: Record<string, EnvironmentSpec>, yaml: ParsedYaml): DeployError[] {
  const where = [
    { label: `deployments.${name}.regions`, path: ['deployments', name, 'regions'], regions },
    ...Object.entries(environments).filter(([, e]) => e.regions).map(([n, e]) => ({ label: `environments.${n}.regions`, path: ['environments', n, 'regions'], regions: regionsFor({ regions }, e) })),
  ];
  return where.flatMap((w) => {
    const other = w.regions.filter((r) => partitionOf(r) !== model.partition);
    if (other.length === 0) return [];
    return [
      invalid(
        `${w.label} has ${other.join(', ')} (partition ${partitionOf(other[0]!)}), and deployments.${name}.model.bedrock is a model of partition ${model.partition}: Bedrock copies a custom model only within its partition`,
        yaml,
        w.path,
        `Copy it to regions of ${model.partition} only; a model for ${partitionOf(other[0]!)} is customised there, in an account of that partition, and is a target: bedrock deployment of its own.`,
      ),
    ];
  });
}

/**
 * The model's region is one its source environment runs in (its regions, else the deployment's, as for every
 * deployment): a model elsewhere is a wrong ARN or a region the spec forgot, and promote-model would share it (RAM
 * shares are regional) from a region the reviewed spec names nowhere.
 */
function sourceRegionErrors(name: string, model: BedrockModelArn, regions: Region[], source: string, env: EnvironmentSpec | undefined, yaml: ParsedYaml): DeployError[] {
  const valid = regionsFor({ regions }, env);
  if (valid.includes(model.region)) return [];
  const where = env?.regions ? `environments.${source}.regions` : `deployments.${name}.regions: ${source} has no regions of its own`;
  const fix = env?.regions ? `add ${model.region} to environments.${source}.regions` : `give environments.${source} regions that include ${model.region}`;
  return [
    invalid(
      `deployments.${name}.model.bedrock is a model of ${model.region}, and its source environment ${source} runs in ${valid.join(', ')} (${where})`,
      yaml,
      ['deployments', name, 'model', 'bedrock'],
      `Valid regions for the model: ${valid.join(', ')}. Name the model's ARN in one of them, or ${fix}.`,
    ),
  ];
}

/** Each environment the model may be copied into encrypts the copies with its kmsKeyId: a key usable in every copy region. */
function keyErrors(name: string, sourceEnvironment: string | undefined, regions: Region[], environments: Record<string, EnvironmentSpec>, yaml: ParsedYaml): DeployError[] {
  return Object.entries(environments).flatMap(([n, e]) => {
    const problem = n === sourceEnvironment ? undefined : kmsKeyRegionProblem(e.kmsKeyId, regionsFor({ regions }, e));
    return problem ? [invalid(`environments.${n}.kmsKeyId ${problem.message}: the copies of ${name} there cannot be encrypted with it`, yaml, ['environments', n, 'kmsKeyId'], problem.hint)] : [];
  });
}

/** A field written on a deployment of another target that only a `target: bedrock` one takes. */
export function bedrockOnlyFieldErrors(name: string, own: Record<string, unknown>, raw: RawSpec, yaml: ParsedYaml): DeployError[] {
  const errors: DeployError[] = [];
  const model = own.model as Record<string, unknown> | undefined;
  if (model?.bedrock !== undefined) {
    errors.push(invalid(`deployments.${name}.model.bedrock is set, and the deployment is target: ${String(writtenTarget(own, raw))}`, yaml, ['deployments', name, 'model', 'bedrock'], 'A Bedrock custom model is a deployment of its own with target: bedrock (no instance type or engine).'));
  }
  const throughput = own.bedrockThroughput !== undefined ? ['deployments', name, 'bedrockThroughput'] : raw.defaults?.bedrockThroughput !== undefined ? ['defaults', 'bedrockThroughput'] : undefined;
  if (throughput) {
    errors.push(
      invalid(`deployments.${name}: bedrockThroughput is set, and the deployment is target: ${String(writtenTarget(own, raw))}: provisioned throughput serves a Bedrock custom model`, yaml, throughput, 'Move it to the target: bedrock deployment of the custom model (model.bedrock: its ARN), which promote-model copies and buys the throughput for.'),
    );
  }
  return errors;
}

/** The `deployment` input naming a target: bedrock deployment, for the actions that have nothing to do with one. */
export function bedrockDeploymentHint(names: string[], wanted: string): string {
  return `${wanted} is a target: bedrock deployment: only promote-model acts on it (it copies the custom model and buys its throughput). ${didYouMean(wanted, names)}`.trim();
}
