/**
 * What a promotion means, checked against the spec before the first AWS call: the source and target
 * environments, regions and roles, the image, the weights, the Bedrock model and its throughput.
 */
import { partitionOf } from '../core/aws';
import { arnAccount, isRoleArn, parseArn } from '../core/arn';
import { DeployError, throwIfAny } from '../core/errors';
import { ImageRef, parseImageUri } from '../core/image-uri';
import { parseS3Location, S3Location } from '../core/s3-location';
import type { Target } from '../config/select';
import { artifactBucketName, repositoryName } from '../config/names';
import { bedrockThroughputTargets, regionsFor } from '../config/regions';
import * as path from 'path';
import { selectEnvironment, targetOf } from '../config/select';
import type { BedrockDeployment, Deployment, EnvironmentSpec, Spec } from '../config/types';
import { artifactPrefix } from '../image/infra';
import { weightsKey } from '../image/render';
import { parseBedrockModelArn } from './bedrock';
import { kmsKeyIn } from './kms-key';
import type { Commitment, ThroughputRequest } from './throughput';
import type { ProvenancePolicy } from './provenance-record';

/** What promote-model asks for besides its target (the spec, the deployment, the target environment and its regions). */
export interface PromoteModelRequest {
  sourceEnvironment: string;
  sourceRegion?: string;
  imageUri?: string;
  modelDataUrl?: string;
  bedrockModelArn?: string;
  /** Provisioned throughput for the copied Bedrock model in each target region (opt-in: it is billed); both fields are required together. */
  provisionedThroughput?: { modelUnits?: number; commitment?: Commitment };
  /** The source account's read-only role a GitHub job assumes with its OIDC token (default: the bootstrap's model-deploy-promotion-source-SOURCE). */
  sourceRoleArn?: string;
  timeoutMs?: number;
  tuning?: PromoteTuning;
  /**
   * The plan fixed before approval (the plan job's JSON): the promotion copies exactly it and refuses a source
   * that changed since. Absent: a direct promotion of what the source holds now (only when asked for).
   */
  fixedPlan?: string;
  /** Only builds of these refs are promotable (their provenance record is checked); absent: not checked. */
  provenance?: ProvenancePolicy;
}

export interface PromoteTuning {
  regionConcurrency?: number;
  blobConcurrency?: number;
  layerPartSize?: number;
  multipartThreshold?: number;
  s3PartSize?: number;
  pollInitialDelayMs?: number;
  pollMaxDelayMs?: number;
}

/** What the request means, checked against the spec before any AWS call. */
export interface PromotionPlan {
  spec: Spec;
  /** The deployment promoted: its image and weights, or (target: bedrock) its custom model. */
  deployment: Deployment | BedrockDeployment;
  source: { name: string; env: EnvironmentSpec; region: string; roleArn: string };
  target: { name: string; env: EnvironmentSpec; regions: string[]; roleArn?: string };
  image?: { repositoryName: string; ref?: ImageRef };
  modelData?: S3Location;
  /** The weights are the build's (no `model-data-url`, no model.s3). */
  modelDataFromBuild?: boolean;
  bedrockModelArn?: string;
  provisionedThroughput?: PlannedThroughput;
}

/** What is bought, and where that was said (the inputs, the spec's bedrockThroughput, or both). */
export interface PlannedThroughput extends ThroughputRequest {
  from: string;
}

/**
 * A target: bedrock deployment selected for promotion: the spec, the deployment, the target environment and the
 * regions of its copies (no names: it has no stack, repository or endpoint).
 */
export interface BedrockTarget extends Omit<Target, 'deployment' | 'names'> {
  deployment: BedrockDeployment;
}

/** What promote-model promotes: an instance deployment's image and weights, or a Bedrock deployment's model. */
export type PromoteTarget = Target | BedrockTarget;

/**
 * The deployment promote-model promotes, with its target environment: a target: bedrock deployment (the spec
 * keeps those in their own map) or, through targetOf, an instance deployment. No name: the spec's only deployment.
 */
export function promotionTargetOf(spec: Spec, specFile: string, inputs: { deployment?: string; environment: string; region?: string }): PromoteTarget {
  const onlyBedrock = Object.keys(spec.deployments).length === 0 ? Object.values(spec.bedrockDeployments) : [];
  const bedrock = inputs.deployment ? spec.bedrockDeployments[inputs.deployment] : onlyBedrock.length === 1 ? onlyBedrock[0] : undefined;
  if (!bedrock) return targetOf(spec, specFile, inputs, 'target-environment');
  const environment = selectEnvironment(spec, inputs.environment, 'target-environment');
  const all = regionsFor(bedrock, environment);
  if (inputs.region && !all.includes(inputs.region)) {
    throw new DeployError(`input \`region\` is "${inputs.region}", which deployment ${bedrock.name} does not use in ${inputs.environment}`, { title: 'Invalid input', hint: `Its regions: ${all.join(', ')}. Add the region to the spec first.` });
  }
  return { spec, specFile, specDir: path.dirname(specFile), deployment: bedrock, environmentName: inputs.environment, environment, regions: inputs.region ? [inputs.region] : all };
}

export function isBedrockTarget(t: PromoteTarget): t is BedrockTarget {
  return t.deployment.target === 'bedrock';
}

/** The Target with its environment: promotion's target environment is resolved with its regions and names. */
type PromotionTarget = Target & { environmentName: string; environment: EnvironmentSpec };
type BedrockPromotionTarget = BedrockTarget & { environmentName: string; environment: EnvironmentSpec };

export function envLocation(spec: Spec, name: string) {
  return spec.locate(['environments', name]);
}

/** Account ids of the spec's environments, for messages. */
function accountsInSpec(spec: Spec): string {
  return Object.entries(spec.environments).map(([n, e]) => `${n} (${e.account})`).join(', ') || 'none';
}

function promotionTarget<T extends PromoteTarget>(target: T): T & { environmentName: string; environment: EnvironmentSpec } {
  const { environmentName, environment } = target;
  if (!environmentName || !environment) throw new DeployError('promote-model needs the target environment', { title: 'Invalid input', hint: 'Set `target-environment`.' });
  return { ...target, environmentName, environment };
}

export function planPromotion(selected: PromoteTarget, req: PromoteModelRequest): PromotionPlan {
  if (isBedrockTarget(selected)) return planBedrockPromotion(promotionTarget(selected), req);
  const target = promotionTarget(selected);
  const { spec, deployment: d } = target;
  const sourceEnv = selectEnvironment(spec, req.sourceEnvironment, 'source-environment');
  if (req.sourceEnvironment === target.environmentName) {
    throw new DeployError(`source and target are both environment "${target.environmentName}"`, {
      title: 'Nothing to promote',
      hint: 'Promotion moves a model between environments: set `source-environment` (default dev) and `target-environment` to different ones.',
    });
  }
  const errors: DeployError[] = [];
  if (req.bedrockModelArn) {
    // Only the reviewed spec names what reaches the target: a Bedrock model is a target: bedrock deployment of it.
    errors.push(new DeployError(`input \`bedrock-model-arn\` is set, and deployment ${d.name} is target ${d.target}: a Bedrock custom model is promoted only as a target: bedrock deployment, whose model.bedrock the reviewed spec names`, {
      location: target.spec.locate(['deployments', d.name]),
      title: 'Bedrock model not in the spec',
      hint: 'Add the model to the spec as its own deployment (target: bedrock, model: { bedrock: ARN }, regions, bedrockThroughput), merge it through review, and promote that deployment with no `bedrock-model-arn` input.',
    }));
  }
  const roleArn = planTargetRole(target, req, errors);
  const fromImage = planImage(target, req, sourceEnv, errors);
  const image = fromImage?.image;
  // The image's region wins; then the input or the default.
  const sourceRegion = fromImage?.region ?? req.sourceRegion ?? firstRegion(d, sourceEnv, req.sourceEnvironment);
  const sourceRoleArn = planSourceRole(req, sourceEnv, sourceRegion, errors);
  if (req.provisionedThroughput?.modelUnits !== undefined || req.provisionedThroughput?.commitment !== undefined) {
    errors.push(new DeployError('inputs `provisioned-model-units` and `commitment-duration` are for a target: bedrock deployment', { title: 'Invalid input', hint: `Deployment ${d.name} is target ${d.target}: leave both empty.` }));
  }
  planKmsKey(target, errors);
  const given = planModelData(target, req, errors);
  const fromBuild = given || !image ? undefined : buildWeights(d, sourceEnv, sourceRegion);
  if (!image && !given && !req.bedrockModelArn) {
    errors.push(new DeployError(`deployment ${d.name} has nothing to promote: its prebuilt image ${d.model.image} is public and it has no model data in S3`, {
      title: 'Nothing to promote',
      hint: 'Give `image-uri` or `model-data-url`.',
    }));
  }
  throwIfAny(errors);
  return {
    spec,
    deployment: d,
    source: { name: req.sourceEnvironment, env: sourceEnv, region: sourceRegion, roleArn: sourceRoleArn },
    target: { name: target.environmentName, env: target.environment, regions: target.regions, roleArn },
    image,
    modelData: given ?? fromBuild,
    modelDataFromBuild: Boolean(fromBuild),
  };
}

/**
 * A target: bedrock deployment's promotion: the model is the spec's model.bedrock (reviewed, at the protected ref);
 * the deprecated `bedrock-model-arn` input may only repeat it. No image or weights: Bedrock serves the copy.
 */
function planBedrockPromotion(target: BedrockPromotionTarget, req: PromoteModelRequest): PromotionPlan {
  const { spec, deployment: b } = target;
  const sourceEnv = selectEnvironment(spec, req.sourceEnvironment, 'source-environment');
  if (req.sourceEnvironment === target.environmentName) {
    throw new DeployError(`source and target are both environment "${target.environmentName}"`, {
      title: 'Nothing to promote',
      hint: `Promotion copies ${b.name}'s model out of the environment that holds it (${b.sourceEnvironment}): set \`target-environment\` to another.`,
    });
  }
  const errors: DeployError[] = [];
  const modelArn = b.model.bedrock;
  const specLine = spec.locate(['deployments', b.name, 'model', 'bedrock']);
  if (req.bedrockModelArn !== undefined && req.bedrockModelArn !== modelArn) {
    errors.push(new DeployError(`input \`bedrock-model-arn\` is ${req.bedrockModelArn}, and the reviewed spec's deployments.${b.name}.model.bedrock is ${modelArn}: the approved spec decides what reaches ${target.environmentName}`, {
      location: specLine,
      title: 'Bedrock model differs from the spec',
      hint: `Leave \`bedrock-model-arn\` empty (deprecated: the spec names the model). To promote another model, change model.bedrock in ${spec.file} through a reviewed pull request.`,
    }));
  }
  for (const [given, input] of [[req.imageUri, 'image-uri'], [req.modelDataUrl, 'model-data-url']] as const) {
    if (given) errors.push(new DeployError(`input \`${input}\` is set, and deployment ${b.name} is target: bedrock: Bedrock serves the copied model, there is no image or weights to promote`, { title: 'Invalid input', hint: `Leave \`${input}\` empty.` }));
  }
  const roleArn = planTargetRole(target, req, errors);
  const sourceRegion = planBedrockSource(target, modelArn, req, sourceEnv, errors) ?? req.sourceRegion ?? target.regions[0] ?? 'us-east-1';
  const sourceRoleArn = planSourceRole(req, sourceEnv, sourceRegion, errors);
  const throughput = planThroughput(target, req, errors);
  planKmsKey(target, errors);
  throwIfAny(errors);
  return {
    spec,
    deployment: b,
    source: { name: req.sourceEnvironment, env: sourceEnv, region: sourceRegion, roleArn: sourceRoleArn },
    target: { name: target.environmentName, env: target.environment, regions: target.regions, roleArn },
    bedrockModelArn: modelArn,
    provisionedThroughput: throughput,
  };
}

/**
 * Provisioned throughput is bought for a copied Bedrock model only, in whole model units: as the inputs say, else
 * as the deployment's bedrockThroughput says for this target environment; an input overrides that field only.
 */
function planThroughput(target: BedrockPromotionTarget, req: PromoteModelRequest, errors: DeployError[]): PlannedThroughput | undefined {
  const given = req.provisionedThroughput ?? {};
  const fromSpec = specThroughput(target);
  const modelUnits = given.modelUnits ?? fromSpec?.modelUnits;
  const commitment = given.commitment ?? fromSpec?.commitment;
  if (modelUnits === undefined && commitment === undefined) return undefined;
  const before = errors.length;
  if (modelUnits === undefined || !Number.isInteger(modelUnits) || modelUnits < 1) {
    errors.push(new DeployError(`input \`provisioned-model-units\` is ${modelUnits ?? 'empty'}, and \`commitment-duration\` is set: give a whole number of model units (at least 1)`, { title: 'Invalid input' }));
  }
  // Never a default: a term is months of spend, and even `none` is billed by the hour.
  if (commitment === undefined) {
    errors.push(new DeployError('input `provisioned-model-units` is set without `commitment-duration`', {
      title: 'Commitment not chosen',
      hint: 'Say what you buy: `none` (hourly, deletable any time), `OneMonth` or `SixMonths` (billed for the whole term, not deletable before it ends).',
    }));
  }
  if (errors.length !== before || modelUnits === undefined || commitment === undefined) return undefined;
  const inputs = [given.modelUnits !== undefined && 'provisioned-model-units', given.commitment !== undefined && 'commitment-duration'].filter(Boolean);
  const field = `deployments.${target.deployment.name}.bedrockThroughput`;
  const from = !fromSpec ? 'the inputs' : inputs.length === 0 ? field : `${field}; ${inputs.join(' and ')} from the inputs`;
  return { modelUnits, commitment, from };
}

/** The deployment's bedrockThroughput when this promotion's target environment is one it is bought in. */
function specThroughput(target: BedrockPromotionTarget): ThroughputRequest | undefined {
  const t = target.deployment.bedrockThroughput;
  if (!t) return undefined;
  const targets = bedrockThroughputTargets(target.deployment, target.spec.environments).map((x) => x.environment);
  return targets.includes(target.environmentName) ? { modelUnits: t.modelUnits, commitment: t.commitment } : undefined;
}

/**
 * A KMS key lives in one region: the target's key must be usable in every target region (an alias or key id
 * resolves in each region, a multi-region key has a replica there); a key ARN of another region is refused.
 */
function planKmsKey(target: PromotionTarget | BedrockPromotionTarget, errors: DeployError[]): void {
  const key = target.environment.kmsKeyId;
  if (!key) return;
  const elsewhere = target.regions.filter((region) => !kmsKeyIn(key, region));
  if (elsewhere.length === 0) return;
  errors.push(new DeployError(`environments.${target.environmentName}.kmsKeyId ${key} is a key of ${parseArn(key)?.region}, and KMS keys are regional: the promoted copies in ${elsewhere.join(', ')} cannot be encrypted with it`, {
    location: envLocation(target.spec, target.environmentName),
    title: 'KMS key in another region',
    hint: 'Name the key by an alias (alias/NAME, created in every target region) or use a multi-region key (mrk-…) replicated into each target region.',
  }));
}

/**
 * Where build-model put the weights of a Hugging Face model it did not bake into the image (the
 * `model-data-url` it output): the source's artifact bucket, under the deployment's artifact prefix.
 */
export function buildWeights(d: Deployment, sourceEnv: EnvironmentSpec, sourceRegion: string): S3Location | undefined {
  const key = d.model.bakeIntoImage ? undefined : weightsKey(d);
  if (!key) return undefined;
  const bucket = sourceEnv.artifactBucket ?? artifactBucketName(sourceEnv.account, sourceRegion);
  return { bucket, key: `${artifactPrefix(d)}/models/${key}/` };
}

function firstRegion(d: Deployment, env: EnvironmentSpec, envName: string): string {
  const [region] = regionsFor(d, env);
  if (!region) throw new DeployError(`deployment ${d.name} has no region in environment ${envName}`, { location: d.source, title: 'Invalid deployment spec' });
  return region;
}

/** The role promote-model assumes in the target: it must be a role of the target's account. */
function planTargetRole(target: PromotionTarget | BedrockPromotionTarget, req: PromoteModelRequest, errors: DeployError[]): string | undefined {
  const env = target.environment;
  const roleArn = env.promotionRoleArn ?? env.roleArn;
  if (!roleArn) return undefined;
  if (!isRoleArn(roleArn) || arnAccount(roleArn) !== env.account) {
    errors.push(new DeployError(`environments.${target.environmentName}: ${env.promotionRoleArn ? 'promotionRoleArn' : 'roleArn'} ${roleArn} is not a role in the environment's account ${env.account}`, {
      location: envLocation(target.spec, target.environmentName),
      title: 'Invalid deployment spec',
      hint: `Use a role in ${env.account} that the ${req.sourceEnvironment} role may assume.`,
    }));
  }
  return roleArn;
}

/** The read-only role of the source account: the input, or the one the bootstrap names after the source environment. */
function planSourceRole(req: PromoteModelRequest, sourceEnv: EnvironmentSpec, sourceRegion: string, errors: DeployError[]): string {
  const roleArn = req.sourceRoleArn ?? `arn:${partitionOf(sourceRegion)}:iam::${sourceEnv.account}:role/model-deploy-promotion-source-${req.sourceEnvironment}`;
  if (!isRoleArn(roleArn) || arnAccount(roleArn) !== sourceEnv.account) {
    errors.push(new DeployError(`input \`source-role-arn\` is "${roleArn}", which is not a role in the source environment's account ${sourceEnv.account}`, {
      title: 'Invalid input',
      hint: `Leave it empty for the bootstrap's read-only role model-deploy-promotion-source-${req.sourceEnvironment} (its PromotionSourceRoleArn output).`,
    }));
  }
  return roleArn;
}

/** The image to promote (and, from an image URI, the source region), or none for a Bedrock model or a public prebuilt image. */
function planImage(target: PromotionTarget, req: PromoteModelRequest, sourceEnv: EnvironmentSpec, errors: DeployError[]): { image: PromotionPlan['image']; region?: string } | undefined {
  const d = target.deployment;
  if (req.imageUri && req.bedrockModelArn) {
    errors.push(new DeployError('inputs `image-uri` and `bedrock-model-arn` are both set', { title: 'Invalid input', hint: 'A Bedrock custom model is promoted instead of an image: give one of them.' }));
  }
  if (!req.imageUri) {
    // Default: the newest image build-model pushed for this deployment.
    return !req.bedrockModelArn && !d.model.image ? { image: { repositoryName: repositoryName(d) } } : undefined;
  }
  const uri = parseImageUri(req.imageUri);
  if (!uri) {
    errors.push(new DeployError(`input \`image-uri\` is "${req.imageUri}", which is not an ECR image URI`, {
      title: 'Invalid input',
      hint: 'Expected ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG or ...@sha256:DIGEST.',
    }));
    return undefined;
  }
  if (uri.account !== sourceEnv.account) {
    const owner = environmentOfAccount(target.spec, uri.account);
    errors.push(new DeployError(`input \`image-uri\` is in account ${uri.account}, ${owner ? `which is environment ${owner}` : 'which is not in the spec'}, not the source environment ${req.sourceEnvironment} (${sourceEnv.account})`, {
      title: owner ? 'Invalid input' : 'Account not in the spec',
      hint: owner ? `Set \`source-environment: ${owner}\`, or give an image of ${sourceEnv.account}.` : `Environments: ${accountsInSpec(target.spec)}.`,
    }));
  }
  if (req.sourceRegion && req.sourceRegion !== uri.region) {
    errors.push(new DeployError(`input \`image-uri\` is in ${uri.region} but \`source-region\` is ${req.sourceRegion}`, { title: 'Invalid input' }));
  }
  return { image: { repositoryName: uri.repositoryName, ref: { tag: uri.tag, digest: uri.digest } }, region: uri.region };
}

function environmentOfAccount(spec: Spec, account: string): string | undefined {
  return Object.entries(spec.environments).find(([, e]) => e.account === account)?.[0];
}

/** The weights to copy: the `model-data-url` input, or model.s3 of the deployment. */
function planModelData(target: PromotionTarget, req: PromoteModelRequest, errors: DeployError[]): S3Location | undefined {
  const d = target.deployment;
  const dataUrl = req.modelDataUrl ?? d.model.s3;
  if (!dataUrl) return undefined;
  const modelData = parseS3Location(dataUrl);
  if (modelData && modelData.key !== '') return modelData;
  errors.push(new DeployError(`${req.modelDataUrl ? 'input `model-data-url`' : `deployments.${d.name}.model.s3`} is "${dataUrl}", which is not an S3 object or prefix URL`, {
    title: 'Invalid input',
    location: req.modelDataUrl ? undefined : target.spec.locate(['deployments', d.name, 'model', 's3']),
    hint: 'Expected s3://BUCKET/KEY (an object) or s3://BUCKET/PREFIX/ (every object under it).',
  }));
  return undefined;
}

/** The spec's model is of the source environment's account (the loader found it an environment's); returns its region. */
function planBedrockSource(target: BedrockPromotionTarget, modelArn: string, req: PromoteModelRequest, sourceEnv: EnvironmentSpec, errors: DeployError[]): string | undefined {
  const arn = parseBedrockModelArn(modelArn);
  if (!arn) return undefined;
  if (arn.account !== sourceEnv.account) {
    const owner = environmentOfAccount(target.spec, arn.account);
    errors.push(new DeployError(`deployments.${target.deployment.name}.model.bedrock is a model of account ${arn.account}${owner ? `, environment ${owner}` : ''}, not of the source environment ${req.sourceEnvironment} (${sourceEnv.account})`, {
      location: target.spec.locate(['deployments', target.deployment.name, 'model', 'bedrock']),
      title: 'Invalid input',
      hint: owner ? `Set \`source-environment: ${owner}\`.` : `Environments: ${accountsInSpec(target.spec)}.`,
    }));
  }
  if (req.sourceRegion && req.sourceRegion !== arn.region) {
    errors.push(new DeployError(`input \`source-region\` is ${req.sourceRegion}, and the model is in ${arn.region}`, { title: 'Invalid input', hint: 'Leave `source-region` empty: the model ARN says its region.' }));
  }
  return arn.region;
}
