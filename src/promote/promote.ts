/**
 * promote-model: an approved model moves from the source environment (dev) to a target environment's
 * account and regions, verified by digest. Everything the spec and inputs say is checked before the
 * first AWS call. The job runs as the target's promotion role (its own OIDC identity, after the target
 * environment's approval) and reads the source with the source account's read-only role, assumed with the
 * job's OIDC token; a local run with source-account credentials assumes the target role. With no weights
 * named, a Hugging Face model's weights are the ones build-model put in the source's artifact bucket.
 * The target's artifact bucket is created (hardened, versioned) when missing. Regions run in parallel,
 * each to its end; the image tag goes last, a failed region's message says what it left in place, and a
 * re-run finishes it.
 */
import { awsClient, partitionOf } from '../core/aws';
import { assumeRole, defaultSessionName, hasGitHubOidc, isRoleArn, webIdentityRole } from '../core/credentials';
import { DeployError, DeployErrors, errorMessage, explainAwsError, throwIfAny } from '../core/errors';
import type { RunContext } from '../core/action';
import type { Target } from '../config/select';
import type { Reporter } from '../core/log';
import { artifactBucketName, ownershipTags, repositoryName } from '../config/names';
import { bedrockThroughputTargets, regionsFor } from '../config/regions';
import { selectEnvironment } from '../config/select';
import { artifactPrefix, ensureArtifactBucket } from '../image/infra';
import { weightsKey } from '../image/render';
import type { Deployment, EnvironmentSpec, Spec } from '../config/types';
import { checkBedrockPrerequisites, copyModel, organizationOf, parseBedrockModelArn, shareModel, targetModelName } from './bedrock';
import { Commitment, describeCommitment, provisionThroughput, ThroughputRequest } from './throughput';
import { copyImage, getManifests, imageUri, newestImage, Registry, waitForReplication } from './ecr';
import { ImageRef, parseImageUri } from '../core/image-uri';
import { copyArtifacts, ensureVersioning, ObjectVersion } from './s3';
import { parseS3Location, S3Location } from '../core/s3-location';
import { Actor, formatBytes, kmsKeyIn, settleLimit, step, tagValue } from './util';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { RAMClient } from '@aws-sdk/client-ram';
import { S3Client } from '@aws-sdk/client-s3';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { CreateRepositoryCommand, ECRClient, TagResourceCommand } from '@aws-sdk/client-ecr';

export interface PromoteRequest {
  spec: Spec;
  deployment: Deployment;
  sourceEnvironment: string;
  targetEnvironment: string;
  /** One target region (the `region` input); default: every region of the target environment. */
  region?: string;
  sourceRegion?: string;
  imageUri?: string;
  modelDataUrl?: string;
  bedrockModelArn?: string;
  /** Provisioned throughput for the copied Bedrock model in each target region (opt-in: it is billed); both fields are required together. */
  provisionedThroughput?: { modelUnits?: number; commitment?: Commitment };
  /** The source account's read-only role a GitHub job assumes with its OIDC token (default: the bootstrap's model-deploy-promotion-source-SOURCE). */
  sourceRoleArn?: string;
  /** Names the run in the role session, and in the provenance tags. */
  run: { sessionName: string; commit?: string; runUrl?: string; repository?: string };
  timeoutMs?: number;
  tuning?: PromoteTuning;
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

export interface TargetResult {
  environment: string;
  account: string;
  region: string;
  imageUri?: string;
  image?: 'copied' | 'present' | 'replicated';
  digest?: string;
  modelDataUrl?: string;
  /** The objects under modelDataUrl as the target holds them (version id, ETag, SHA-256), for deploy to pin. */
  modelDataVersions?: ObjectVersion[];
  modelArn?: string;
  /** The provisioned throughput of the copied Bedrock model, when asked for. */
  provisionedModelArn?: string;
  blobsCopied: number;
  blobsSkipped: number;
  bytesMoved: number;
  objectsCopied: number;
  objectsSkipped: number;
  bytesCopied: number;
  calls: number;
  seconds: number;
}

export interface PromoteResult {
  digest?: string;
  targets: TargetResult[];
}

/** What the request means, checked against the spec before any AWS call. */
export interface PromotionPlan {
  deployment: Deployment;
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

function envLocation(spec: Spec, name: string) {
  return spec.locate(['environments', name]);
}

/** Account ids of the spec's environments, for messages. */
function accountsInSpec(spec: Spec): string {
  return Object.entries(spec.environments).map(([n, e]) => `${n} (${e.account})`).join(', ') || 'none';
}

function environmentByInput(spec: Spec, name: string, input: string): EnvironmentSpec {
  if (/^\d{12}$/.test(name) && !spec.environments[name]) {
    const match = Object.entries(spec.environments).find(([, e]) => e.account === name);
    throw new DeployError(`input \`${input}\` is the account ${name}; promotion targets are environments of the spec${match ? `, and ${name} is environment "${match[0]}"` : `, and account ${name} is not in the spec`}`, {
      location: spec.locate(['environments']),
      title: match ? 'Environment expected' : 'Account not in the spec',
      hint: match ? `Use \`${input}: ${match[0]}\`.` : `Add the account under environments: in ${spec.file} (with its promotionRoleArn). Environments: ${accountsInSpec(spec)}.`,
    });
  }
  return selectEnvironment(spec, name, input);
}

export function planPromotion(req: PromoteRequest): PromotionPlan {
  const { spec, deployment: d } = req;
  const sourceEnv = environmentByInput(spec, req.sourceEnvironment, 'source-environment');
  const targetEnv = environmentByInput(spec, req.targetEnvironment, 'target-environment');
  if (req.sourceEnvironment === req.targetEnvironment) {
    throw new DeployError(`source and target are both environment "${req.targetEnvironment}"`, {
      title: 'Nothing to promote',
      hint: 'Promotion moves a model between environments: set `source-environment` (default dev) and `target-environment` to different ones.',
    });
  }
  const errors: DeployError[] = [];
  const regions = planTargetRegions(req, targetEnv, errors);
  const roleArn = planTargetRole(req, targetEnv, errors);
  const fromImage = planImage(req, sourceEnv, errors);
  const bedrockRegion = planBedrock(req, sourceEnv, errors);
  const image = fromImage?.image;
  // The image's region wins; then the Bedrock model's (when no image URI was given); then the input or the default.
  const sourceRegion = fromImage?.region ?? (req.imageUri ? undefined : bedrockRegion) ?? req.sourceRegion ?? firstRegion(d, sourceEnv, req.sourceEnvironment);
  const sourceRoleArn = planSourceRole(req, sourceEnv, sourceRegion, errors);
  const throughput = planThroughput(req, errors);
  planKmsKey(req, targetEnv, regions, errors);
  const given = planModelData(req, errors);
  const fromBuild = given || !image ? undefined : buildWeights(d, sourceEnv, sourceRegion);
  if (!image && !given && !req.bedrockModelArn) {
    errors.push(new DeployError(`deployment ${d.name} has nothing to promote: its prebuilt image ${d.model.image} is public and it has no model data in S3`, {
      title: 'Nothing to promote',
      hint: 'Give `image-uri`, `model-data-url` or `bedrock-model-arn`.',
    }));
  }
  throwIfAny(errors);
  return {
    deployment: d,
    source: { name: req.sourceEnvironment, env: sourceEnv, region: sourceRegion, roleArn: sourceRoleArn },
    target: { name: req.targetEnvironment, env: targetEnv, regions, roleArn },
    image,
    modelData: given ?? fromBuild,
    modelDataFromBuild: Boolean(fromBuild),
    bedrockModelArn: req.bedrockModelArn,
    provisionedThroughput: throughput,
  };
}

/**
 * Provisioned throughput is bought for a copied Bedrock model only, in whole model units: as the inputs say, else
 * as the deployment's bedrockThroughput says for this target environment; an input overrides that field only.
 */
function planThroughput(req: PromoteRequest, errors: DeployError[]): PlannedThroughput | undefined {
  const given = req.provisionedThroughput ?? {};
  const fromSpec = req.bedrockModelArn ? specThroughput(req) : undefined;
  const modelUnits = given.modelUnits ?? fromSpec?.modelUnits;
  const commitment = given.commitment ?? fromSpec?.commitment;
  if (modelUnits === undefined && commitment === undefined) return undefined;
  const before = errors.length;
  if (!req.bedrockModelArn) {
    errors.push(new DeployError('inputs `provisioned-model-units` and `commitment-duration` are for a Bedrock model, and `bedrock-model-arn` is empty', { title: 'Invalid input', hint: 'Provisioned throughput serves a promoted Bedrock custom model: give `bedrock-model-arn`, or leave both empty.' }));
  }
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
  const field = `deployments.${req.deployment.name}.bedrockThroughput`;
  const from = !fromSpec ? 'the inputs' : inputs.length === 0 ? field : `${field}; ${inputs.join(' and ')} from the inputs`;
  return { modelUnits, commitment, from };
}

/** The deployment's bedrockThroughput when this promotion's target environment is one it is bought in. */
function specThroughput(req: PromoteRequest): ThroughputRequest | undefined {
  const t = req.deployment.bedrockThroughput;
  if (!t) return undefined;
  const targets = bedrockThroughputTargets(req.deployment, req.spec.environments).map((x) => x.environment);
  return targets.includes(req.targetEnvironment) ? { modelUnits: t.modelUnits, commitment: t.commitment } : undefined;
}

/**
 * A KMS key lives in one region: the target's key must be usable in every target region (an alias or key id
 * resolves in each region, a multi-region key has a replica there); a key ARN of another region is refused.
 */
function planKmsKey(req: PromoteRequest, targetEnv: EnvironmentSpec, regions: string[], errors: DeployError[]): void {
  const key = targetEnv.kmsKeyId;
  if (!key) return;
  const elsewhere = regions.filter((region) => !kmsKeyIn(key, region));
  if (elsewhere.length === 0) return;
  errors.push(new DeployError(`environments.${req.targetEnvironment}.kmsKeyId ${key} is a key of ${key.split(':')[3]}, and KMS keys are regional: the promoted copies in ${elsewhere.join(', ')} cannot be encrypted with it`, {
    location: envLocation(req.spec, req.targetEnvironment),
    title: 'KMS key in another region',
    hint: 'Name the key by an alias (alias/NAME, created in every target region) or use a multi-region key (mrk-…) replicated into each target region.',
  }));
}

/**
 * Where build-model put the weights of a Hugging Face model it did not bake into the image (the
 * `model-data-url` it output): the source's artifact bucket, under the deployment's artifact prefix.
 */
function buildWeights(d: Deployment, sourceEnv: EnvironmentSpec, sourceRegion: string): S3Location | undefined {
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

/** Every region of the target environment, or the one the `region` input names. */
function planTargetRegions(req: PromoteRequest, targetEnv: EnvironmentSpec, errors: DeployError[]): string[] {
  const d = req.deployment;
  const all = regionsFor(d, targetEnv);
  if (!req.region) return all;
  if (!all.includes(req.region)) {
    errors.push(new DeployError(`input \`region\` is "${req.region}", which ${d.name} does not serve in ${req.targetEnvironment}`, {
      title: 'Invalid input',
      hint: `Its regions there: ${all.join(', ')}.`,
    }));
  }
  return [req.region];
}

/** The role promote-model assumes in the target: it must be a role of the target's account. */
function planTargetRole(req: PromoteRequest, targetEnv: EnvironmentSpec, errors: DeployError[]): string | undefined {
  const roleArn = targetEnv.promotionRoleArn ?? targetEnv.roleArn;
  if (!roleArn) return undefined;
  const roleAccount = /^arn:[\w-]+:iam::(\d{12}):/.exec(roleArn)?.[1];
  if (!isRoleArn(roleArn) || roleAccount !== targetEnv.account) {
    errors.push(new DeployError(`environments.${req.targetEnvironment}: ${targetEnv.promotionRoleArn ? 'promotionRoleArn' : 'roleArn'} ${roleArn} is not a role in the environment's account ${targetEnv.account}`, {
      location: envLocation(req.spec, req.targetEnvironment),
      title: 'Invalid deployment spec',
      hint: `Use a role in ${targetEnv.account} that the ${req.sourceEnvironment} role may assume.`,
    }));
  }
  return roleArn;
}

/** The read-only role of the source account: the input, or the one the bootstrap names after the source environment. */
function planSourceRole(req: PromoteRequest, sourceEnv: EnvironmentSpec, sourceRegion: string, errors: DeployError[]): string {
  const roleArn = req.sourceRoleArn ?? `arn:${partitionOf(sourceRegion)}:iam::${sourceEnv.account}:role/model-deploy-promotion-source-${req.sourceEnvironment}`;
  const roleAccount = /^arn:[\w-]+:iam::(\d{12}):/.exec(roleArn)?.[1];
  if (!isRoleArn(roleArn) || roleAccount !== sourceEnv.account) {
    errors.push(new DeployError(`input \`source-role-arn\` is "${roleArn}", which is not a role in the source environment's account ${sourceEnv.account}`, {
      title: 'Invalid input',
      hint: `Leave it empty for the bootstrap's read-only role model-deploy-promotion-source-${req.sourceEnvironment} (its PromotionSourceRoleArn output).`,
    }));
  }
  return roleArn;
}

/** The image to promote (and, from an image URI, the source region), or none for a Bedrock model or a public prebuilt image. */
function planImage(req: PromoteRequest, sourceEnv: EnvironmentSpec, errors: DeployError[]): { image: PromotionPlan['image']; region?: string } | undefined {
  const d = req.deployment;
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
    const owner = environmentOfAccount(req.spec, uri.account);
    errors.push(new DeployError(`input \`image-uri\` is in account ${uri.account}, ${owner ? `which is environment ${owner}` : 'which is not in the spec'}, not the source environment ${req.sourceEnvironment} (${sourceEnv.account})`, {
      title: owner ? 'Invalid input' : 'Account not in the spec',
      hint: owner ? `Set \`source-environment: ${owner}\`, or give an image of ${sourceEnv.account}.` : `Environments: ${accountsInSpec(req.spec)}.`,
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
function planModelData(req: PromoteRequest, errors: DeployError[]): S3Location | undefined {
  const d = req.deployment;
  const dataUrl = req.modelDataUrl ?? d.model.s3;
  if (!dataUrl) return undefined;
  const modelData = parseS3Location(dataUrl);
  if (modelData && modelData.key !== '') return modelData;
  errors.push(new DeployError(`${req.modelDataUrl ? 'input `model-data-url`' : `deployments.${d.name}.model.s3`} is "${dataUrl}", which is not an S3 object or prefix URL`, {
    title: 'Invalid input',
    location: req.modelDataUrl ? undefined : req.spec.locate(['deployments', d.name, 'model', 's3']),
    hint: 'Expected s3://BUCKET/KEY (an object) or s3://BUCKET/PREFIX/ (every object under it).',
  }));
  return undefined;
}

/** Checks the Bedrock model ARN; returns its region. */
function planBedrock(req: PromoteRequest, sourceEnv: EnvironmentSpec, errors: DeployError[]): string | undefined {
  if (!req.bedrockModelArn) return undefined;
  const arn = parseBedrockModelArn(req.bedrockModelArn);
  if (!arn) {
    errors.push(new DeployError(`input \`bedrock-model-arn\` is "${req.bedrockModelArn}", which is not a Bedrock custom model ARN`, {
      title: 'Invalid input',
      hint: 'Expected arn:aws:bedrock:REGION:ACCOUNT:custom-model/NAME.',
    }));
    return undefined;
  }
  if (arn.account !== sourceEnv.account) {
    const owner = environmentOfAccount(req.spec, arn.account);
    errors.push(new DeployError(`input \`bedrock-model-arn\` is in account ${arn.account}, ${owner ? `which is environment ${owner}` : 'which is not in the spec'}, not the source environment ${req.sourceEnvironment} (${sourceEnv.account})`, {
      title: owner ? 'Invalid input' : 'Account not in the spec',
      hint: `Environments: ${accountsInSpec(req.spec)}.`,
    }));
  }
  return arn.region;
}

/** Provenance tags: where the model came from and which run moved it. */
export function provenanceTags(plan: PromotionPlan, req: PromoteRequest, digest?: string): Record<string, string> {
  const tags: Record<string, string> = {
    'model-deploy:source-account': plan.source.env.account,
    'model-deploy:source-region': plan.source.region,
  };
  if (digest) tags['model-deploy:digest'] = digest;
  if (req.run.commit) tags['model-deploy:git-commit'] = req.run.commit;
  if (req.run.runUrl) tags['model-deploy:run-url'] = tagValue(req.run.runUrl);
  return tags;
}

async function identify(region: string): Promise<{ account: string; arn: string }> {
  try {
    const me = await awsClient(STSClient, { region }).send(new GetCallerIdentityCommand({}));
    return { account: me.Account ?? '', arn: me.Arn ?? '' };
  } catch (err) {
    throw explainAwsError(err, 'sts:GetCallerIdentity (who is this job?)');
  }
}

/** What promote-model asks for, beyond the target (whose spec and deployment it promotes). */
export type PromoteModelRequest = Omit<PromoteRequest, 'spec' | 'deployment' | 'run'>;

/** promote-model's one domain call. */
export async function promoteModel(target: Target, request: PromoteModelRequest, run: RunContext): Promise<PromoteResult> {
  const session = defaultSessionName(process.env).replace(/^model-deploy-/, 'promote-').slice(0, 64);
  const runInfo = { sessionName: session, commit: run.env.sha, runUrl: run.env.runUrl, repository: run.env.repository };
  return promote({ ...request, spec: target.spec, deployment: target.deployment, run: runInfo }, run.reporter, run.signal);
}

/** Everything the steps of one promotion share. */
interface Promotion {
  plan: PromotionPlan;
  req: PromoteRequest;
  reporter: Reporter;
  signal?: AbortSignal;
  tuning: PromoteTuning;
  timeoutMs: number;
  sourceActor: Actor;
  targetActor: Actor;
}

export async function promote(req: PromoteRequest, reporter: Reporter, signal?: AbortSignal): Promise<PromoteResult> {
  const plan = planPromotion(req);
  const { sourceActor, targetActor } = await resolveActors(plan, req, reporter);
  const { deployment: d, source, target } = plan;
  reporter.info(`Promoting ${d.name} from ${source.name} (${source.env.account} ${source.region}) to ${target.name} (${target.env.account} ${target.regions.join(', ')}) as ${targetActor.principal}.`);
  const p: Promotion = { plan, req, reporter, signal, tuning: req.tuning ?? {}, timeoutMs: req.timeoutMs ?? 120 * 60_000, sourceActor, targetActor };
  // What Bedrock would refuse is found before anything is shared, copied or bought.
  await checkBedrock(p);
  // Resolve the image once: every region gets the same digest.
  const ref = await resolveImage(p);
  await shareBedrockModel(p);
  const settled = await settleLimit(target.regions, p.tuning.regionConcurrency ?? 4, (region) => promoteRegion(p, region, ref));
  return finish(p, settled);
}

/**
 * Who acts on each side. A promote job runs as the target's promotion role (its OIDC identity, gated by the
 * target environment's approval) and reads the source with the source account's read-only role, assumed
 * with the job's own OIDC token. A local run with credentials of the source account reads with them and
 * assumes the target's promotion role, which must then trust that caller (the bootstrap's does not).
 */
async function resolveActors(plan: PromotionPlan, req: PromoteRequest, reporter: Reporter): Promise<{ sourceActor: Actor; targetActor: Actor }> {
  const { source, target } = plan;
  const me = await identify(source.region);
  const ambient: Actor = { principal: me.arn, account: me.account };
  if (me.account === target.env.account) return { sourceActor: await sourceReader(plan, req, ambient, reporter), targetActor: ambient };
  if (me.account === source.env.account) {
    reporter.info(`Reading ${source.name} with this session's credentials (${me.arn}): its account ${me.account} is the source's.`);
    return { sourceActor: ambient, targetActor: await assumeTarget(plan, req, me.arn, reporter) };
  }
  throw new DeployError(`This job runs as ${me.arn} in account ${me.account}, which is neither ${source.name} (${source.env.account}) nor ${target.name} (${target.env.account}).`, {
    title: 'Account not in the spec',
    hint: `Run configure-aws-credentials with the ${target.name} promotion role (environments.${target.name}.promotionRoleArn) before promote-model.`,
  });
}

/** The source's reader for a session in the target account: itself (one account), else the read-only role through OIDC. */
async function sourceReader(plan: PromotionPlan, req: PromoteRequest, ambient: Actor, reporter: Reporter): Promise<Actor> {
  const { source } = plan;
  if (source.env.account === ambient.account) return ambient;
  if (!hasGitHubOidc()) {
    throw new DeployError(`${ambient.principal} is in the target account ${ambient.account}, and there is no GitHub OIDC token to read ${source.name} (${source.env.account}) with.`, {
      title: 'No source credentials',
      hint: `In a workflow, give the job \`permissions: id-token: write\`. Locally, run with credentials of ${source.env.account} instead.`,
    });
  }
  const credentials = webIdentityRole({ roleArn: source.roleArn, region: source.region, sessionName: req.run.sessionName, reporter });
  // Assume now, so a missing trust fails before anything is copied.
  await credentials();
  reporter.info(`Reading ${source.name} (${source.env.account}) as ${source.roleArn}, with this job's OIDC token.`);
  return { principal: `${source.roleArn} (session ${req.run.sessionName})`, account: source.env.account, credentials };
}

/** A local run: the target's promotion role, assumed from the source-account session. */
async function assumeTarget(plan: PromotionPlan, req: PromoteRequest, callerArn: string, reporter: Reporter): Promise<Actor> {
  const { target } = plan;
  if (!target.roleArn) {
    throw new DeployError(`environments.${target.name} (${target.env.account}) has neither promotionRoleArn nor roleArn, so ${callerArn} cannot act in it.`, {
      location: envLocation(req.spec, target.name),
      title: 'No promotion role',
      hint: `Run promote-model with credentials of ${target.env.account} (promote.yml uses the ${target.name} promotion role), or set environments.${target.name}.promotionRoleArn.`,
    });
  }
  const credentials = assumeRole({ roleArn: target.roleArn, region: target.regions[0] ?? plan.source.region, sessionName: req.run.sessionName, reporter });
  try {
    await credentials();
  } catch (err) {
    const e = err instanceof DeployError ? err : new DeployError(errorMessage(err), { cause: err });
    throw new DeployError(e.message, {
      cause: e,
      title: e.title,
      hint: `${e.hint ?? ''} The bootstrap's ${target.roleArn.split('/').pop()} role trusts only the ${target.name} environment's GitHub jobs: promote from such a job (promote.yml), whose credentials are the target's.`.trim(),
    });
  }
  return { principal: `${target.roleArn} (session ${req.run.sessionName})`, account: target.env.account, credentials };
}

function sourceRegistry(p: Promotion, repositoryName: string): Registry {
  const { source } = p.plan;
  return { client: awsClient(ECRClient, { region: source.region, credentials: p.sourceActor.credentials }), actor: p.sourceActor, registryId: source.env.account, region: source.region, repositoryName };
}

/** The image reference every region promotes: the one asked for, or the newest the build pushed. */
async function resolveImage(p: Promotion): Promise<ImageRef | undefined> {
  const image = p.plan.image;
  if (!image) return undefined;
  const ref = image.ref ?? (await newestImage(sourceRegistry(p, image.repositoryName)));
  p.reporter.info(`Image: ${image.repositoryName}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`);
  return ref;
}

/** The Bedrock prerequisites, each side asked with its own credentials; then what a throughput purchase commits to. */
async function checkBedrock(p: Promotion): Promise<void> {
  const { plan, sourceActor, targetActor, reporter } = p;
  const modelArn = plan.bedrockModelArn;
  if (!modelArn) return;
  const modelRegion = parseBedrockModelArn(modelArn)?.region ?? plan.source.region;
  await checkBedrockPrerequisites({
    sourceModelArn: modelArn,
    source: { actor: sourceActor, organization: organizationOf(sourceActor, modelRegion), bedrock: awsClient(BedrockClient, { region: modelRegion, credentials: sourceActor.credentials }) },
    target: {
      actor: targetActor,
      organization: organizationOf(targetActor, modelRegion),
      regions: plan.target.regions,
      bedrockIn: (region) => awsClient(BedrockClient, { region, credentials: targetActor.credentials }),
    },
    reporter,
  });
  const pt = plan.provisionedThroughput;
  const own = plan.deployment.bedrockThroughput;
  if (!pt && own) {
    const where = bedrockThroughputTargets(plan.deployment, p.req.spec.environments).map((t) => t.environment);
    reporter.info(`deployments.${plan.deployment.name}.bedrockThroughput is bought in ${where.join(', ')}, not in ${plan.target.name}: this promotion buys no provisioned throughput.`);
  }
  if (pt) {
    reporter.warning(
      `After the copy, promote-model buys ${describeCommitment(pt)} in each of ${plan.target.regions.join(', ')} (account ${plan.target.env.account}; set by ${pt.from}).`,
      undefined,
      'Provisioned throughput is billed',
    );
  }
}

/** Across accounts, a Bedrock custom model is shared through RAM before the target copies it. */
async function shareBedrockModel(p: Promotion): Promise<void> {
  const { plan, req, sourceActor, targetActor } = p;
  const { deployment: d, source, target } = plan;
  const modelArn = plan.bedrockModelArn;
  if (!modelArn || source.env.account === target.env.account) return;
  const modelRegion = parseBedrockModelArn(modelArn)?.region ?? source.region;
  const shareArn = await shareModel({
    ram: awsClient(RAMClient, { region: modelRegion, credentials: sourceActor.credentials }),
    actor: sourceActor,
    shareName: `model-deploy-${d.project}-${d.name}-${target.name}`.slice(0, 128),
    modelArn,
    targetAccount: target.env.account,
    tags: { ...ownershipTags(d, target.name), ...provenanceTags(plan, req) },
    targetRam: awsClient(RAMClient, { region: modelRegion, credentials: targetActor.credentials }),
    targetActor,
  });
  p.reporter.info(`Shared ${modelArn} with ${target.env.account} (${shareArn}).`);
}

/** One target region: image, weights and Bedrock model in parallel, each to its end. */
async function promoteRegion(p: Promotion, region: string, ref: ImageRef | undefined): Promise<TargetResult> {
  const { plan } = p;
  const started = Date.now();
  const r: TargetResult = {
    environment: plan.target.name,
    account: plan.target.env.account,
    region,
    blobsCopied: 0,
    blobsSkipped: 0,
    bytesMoved: 0,
    objectsCopied: 0,
    objectsSkipped: 0,
    bytesCopied: 0,
    calls: 0,
    seconds: 0,
  };
  const work: Promise<void>[] = [];
  if (plan.image && ref) work.push(promoteImage(p, region, plan.image.repositoryName, ref, r));
  if (plan.modelData) work.push(promoteModelData(p, region, plan.modelData, r));
  if (plan.bedrockModelArn) work.push(copyBedrockModel(p, region, plan.bedrockModelArn, r));
  const settled = await Promise.allSettled(work);
  r.seconds = (Date.now() - started) / 1000;
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw new RegionFailure(failed.reason, r);
  p.reporter.info(`${region}: done in ${r.seconds.toFixed(1)} s (${describe(r)}).`);
  return r;
}

/** The image into one region: by ECR replication (wait and verify) or by copy; then the repository's provenance tags. */
async function promoteImage(p: Promotion, region: string, sourceRepo: string, ref: ImageRef, r: TargetResult): Promise<void> {
  const { plan, req, targetActor } = p;
  const { deployment: d, target } = plan;
  const src = sourceRegistry(p, sourceRepo);
  const targetRepo = target.env.ecrReplication ? sourceRepo : repositoryName(d);
  const dst: Registry = {
    client: awsClient(ECRClient, { region, credentials: targetActor.credentials }),
    actor: targetActor,
    registryId: target.env.account,
    region,
    repositoryName: targetRepo,
  };
  const digest = target.env.ecrReplication ? await replicateImage(p, src, dst, ref, r) : await copyImageInto(p, src, dst, ref, r);
  r.imageUri = imageUri(target.env.account, region, targetRepo, digest);
  await tagRepository(dst, { ...ownershipTags(d, target.name), ...provenanceTags(plan, req, digest) });
  r.calls++;
}

async function replicateImage(p: Promotion, src: Registry, dst: Registry, ref: ImageRef, r: TargetResult): Promise<string> {
  const digest = ref.digest ?? (await copyImageDigest(src, ref));
  await waitForReplication(src, digest, dst.registryId, dst.region, {
    timeoutMs: p.timeoutMs,
    initialDelayMs: p.tuning.pollInitialDelayMs,
    maxDelayMs: p.tuning.pollMaxDelayMs,
    signal: p.signal,
  });
  await verifyInTarget(dst, digest);
  r.image = 'replicated';
  r.digest = digest;
  return digest;
}

async function copyImageInto(p: Promotion, src: Registry, dst: Registry, ref: ImageRef, r: TargetResult): Promise<string> {
  const { deployment: d, target } = p.plan;
  const copied = await copyImage(src, dst, ref, {
    blobConcurrency: p.tuning.blobConcurrency,
    partSize: p.tuning.layerPartSize,
    signal: p.signal,
    reporter: p.reporter,
    createRepository: (t) => createRepository(t, kmsKeyIn(target.env.kmsKeyId, t.region), ownershipTags(d, target.name)),
  });
  r.image = copied.alreadyPresent ? 'present' : 'copied';
  r.digest = copied.digest;
  r.blobsCopied = copied.blobsCopied;
  r.blobsSkipped = copied.blobsSkipped;
  r.bytesMoved = copied.bytesMoved;
  r.calls += copied.calls;
  return copied.digest;
}

/** The weights into the target's artifact bucket in one region: server-side within one account, through the runner across accounts. */
async function promoteModelData(p: Promotion, region: string, data: S3Location, r: TargetResult): Promise<void> {
  const { plan, req, sourceActor, targetActor, tuning } = p;
  const { source, target } = plan;
  const bucket = target.env.artifactBucket ?? artifactBucketName(target.env.account, region);
  // A new account has no artifact bucket yet: create it as build-model creates the source's.
  await step(targetActor, 's3:CreateBucket and s3:PutBucket* (encryption, public access block, ownership, policy)', bucket, () =>
    ensureArtifactBucket({ region, credentials: targetActor.credentials }, bucket, kmsKeyIn(target.env.kmsKeyId, region), p.reporter),
  );
  const targetBucket = { client: awsClient(S3Client, { region, credentials: targetActor.credentials }), actor: targetActor, bucket, region, owner: target.env.account };
  await ensureVersioning(targetBucket);
  const copied = await copyArtifacts(
    { client: awsClient(S3Client, { region: source.region, credentials: sourceActor.credentials }), actor: sourceActor, bucket: data.bucket, region: source.region, owner: source.env.account },
    data.key,
    targetBucket,
    {
      kmsKeyId: kmsKeyIn(target.env.kmsKeyId, region),
      tags: provenanceTags(plan, req, undefined),
      multipartThreshold: tuning.multipartThreshold,
      partSize: tuning.s3PartSize,
      missingHint: plan.modelDataFromBuild
        ? `These are the weights build-model uploads for ${plan.deployment.name} in ${source.name}: run build-model there first, or give the \`model-data-url\` input.`
        : undefined,
    },
  );
  r.modelDataUrl = copied.url;
  r.modelDataVersions = copied.objects;
  r.objectsCopied = copied.objectsCopied;
  r.objectsSkipped = copied.objectsSkipped;
  r.bytesCopied = copied.bytesCopied;
}

/** The Bedrock model into one region, then (when asked) its provisioned throughput. */
async function copyBedrockModel(p: Promotion, region: string, sourceModelArn: string, r: TargetResult): Promise<void> {
  const { plan, req, targetActor, tuning } = p;
  const { deployment: d, target } = plan;
  const bedrock = awsClient(BedrockClient, { region, credentials: targetActor.credentials });
  const name = targetModelName(`${d.project}-${d.name}`, sourceModelArn);
  const tags = { ...ownershipTags(d, target.name), ...provenanceTags(plan, req) };
  // The copy and the throughput purchase: same client, account, region, tags and waiting.
  const common = {
    bedrock,
    actor: targetActor,
    region,
    tags,
    timeoutMs: p.timeoutMs,
    initialDelayMs: tuning.pollInitialDelayMs,
    maxDelayMs: tuning.pollMaxDelayMs,
    signal: p.signal,
    reporter: p.reporter,
  };
  const copied = await copyModel({ ...common, sourceModelArn, targetModelName: name, kmsKeyId: kmsKeyIn(target.env.kmsKeyId, region) });
  r.modelArn = copied.modelArn;
  const pt = plan.provisionedThroughput;
  if (!pt) return;
  const provisioned = await provisionThroughput({ ...common, modelUnits: pt.modelUnits, commitment: pt.commitment, modelArn: copied.modelArn, name });
  r.provisionedModelArn = provisioned.provisionedModelArn;
}

/** A region that failed, with what it had done by then (the image may be tagged while the weights failed). */
class RegionFailure extends Error {
  constructor(readonly reason: unknown, readonly partial: TargetResult) {
    super(errorMessage(reason));
  }
}

export interface FailedRegion {
  region: string;
  /** The digest-pinned image URI when the image is in place (tagged) in that region. */
  imageInPlace?: string;
}

/** The summary, then the result, or every failed region's error together. */
async function finish(p: Promotion, settled: PromiseSettledResult<TargetResult>[]): Promise<PromoteResult> {
  const regions = p.plan.target.regions;
  const targets = settled.filter((s): s is PromiseFulfilledResult<TargetResult> => s.status === 'fulfilled').map((s) => s.value);
  const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [regionFailure(s.reason, regions[i] ?? '')] : []));
  await p.reporter.summary(summaryMarkdown(p.plan, targets, failures));
  if (failures.length > 0) {
    const errors = failures.map(({ region, imageInPlace, reason }) => {
      const e = reason instanceof DeployError ? reason : new DeployError(errorMessage(reason), { cause: reason });
      const done = imageInPlace ? `the image is in place (${imageInPlace}), but ` : '';
      return new DeployError(`${region}: ${done}${e.message}`, { hint: e.hint, title: e.title, location: e.location, cause: e });
    });
    throw new DeployErrors([...errors, rerunAdvice(failures)]);
  }
  const digests = new Set(targets.flatMap((t) => (t.digest ? [t.digest] : [])));
  return { digest: digests.size === 1 ? [...digests][0] : undefined, targets };
}

function regionFailure(reason: unknown, region: string): FailedRegion & { reason: unknown } {
  if (!(reason instanceof RegionFailure)) return { region, reason };
  return { region, reason: reason.reason, imageInPlace: reason.partial.imageUri };
}

/** What a re-run finishes, true for each failed region: the image tag goes last, so an untagged region has no tag. */
function rerunAdvice(failures: FailedRegion[]): DeployError {
  const tagged = failures.filter((f) => f.imageInPlace).map((f) => f.region);
  const untagged = failures.filter((f) => !f.imageInPlace).map((f) => f.region);
  const parts = [
    ...(untagged.length ? [`nothing was tagged in ${untagged.join(', ')}`] : []),
    ...(tagged.length ? [`${tagged.join(', ')}: the image is in place, the rest is not`] : []),
  ];
  return new DeployError(`Promotion incomplete: ${parts.join('; ')}; re-run promote-model to finish (what was copied is skipped).`, { title: 'Promotion incomplete' });
}

async function copyImageDigest(src: Registry, ref: ImageRef): Promise<string> {
  const found = (await getManifests(src, [ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag }])).found[0];
  if (!found) throw new DeployError(`Image ${ref.tag ?? ref.digest} is not in ${src.repositoryName} in ${src.registryId} ${src.region}.`, { title: 'Source image not found' });
  return found.digest;
}

/** After replication: the target must hold exactly the source digest. */
async function verifyInTarget(dst: Registry, digest: string): Promise<void> {
  const found = (await getManifests(dst, [{ imageDigest: digest }])).found[0];
  if (found?.digest !== digest) {
    throw new DeployError(`ECR reported replication complete, but ${dst.repositoryName} in ${dst.registryId} ${dst.region} does not hold ${digest}.`, { title: 'Digest mismatch' });
  }
}

async function createRepository(t: Registry, kmsKeyId: string | undefined, tags: Record<string, string>): Promise<void> {
  await step(t.actor, 'ecr:CreateRepository', `${t.repositoryName} in ${t.registryId} ${t.region}`, async () => {
    try {
      await t.client.send(
        new CreateRepositoryCommand({
          registryId: t.registryId,
          repositoryName: t.repositoryName,
          // Promoted tags name approved builds: they must never move.
          imageTagMutability: 'IMMUTABLE',
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfiguration: kmsKeyId ? { encryptionType: 'KMS', kmsKey: kmsKeyId } : { encryptionType: 'AES256' },
          tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value: tagValue(Value) })),
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name !== 'RepositoryAlreadyExistsException') throw err;
    }
  });
}

/**
 * ECR tags live on the repository, not the image, and an image's manifest cannot gain an annotation
 * without changing its digest: the repository records the last promotion into it (digest, source
 * account, commit, run), and the digest-pinned image URI is the per-image link.
 */
async function tagRepository(t: Registry, tags: Record<string, string>): Promise<void> {
  const arn = `arn:${partitionOf(t.region)}:ecr:${t.region}:${t.registryId}:repository/${t.repositoryName}`;
  await step(t.actor, 'ecr:TagResource', arn, () =>
    t.client.send(new TagResourceCommand({ resourceArn: arn, tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value: tagValue(Value) })) })),
  );
}

/** The `model-data-versions` output: region → object key → { versionId, etag, checksumSha256 }. */
export function modelDataVersionsOutput(result: PromoteResult): string {
  const byRegion = result.targets.flatMap((t) =>
    t.modelDataVersions ? [[t.region, Object.fromEntries(t.modelDataVersions.map(({ key, ...version }) => [key, version]))] as const] : [],
  );
  return JSON.stringify(Object.fromEntries(byRegion));
}

function describe(r: TargetResult): string {
  const parts: string[] = [];
  if (r.image) parts.push(`image ${r.image}, ${r.blobsCopied} blobs copied, ${r.blobsSkipped} skipped, ${formatBytes(r.bytesMoved)} moved`);
  if (r.modelDataUrl) parts.push(`${r.objectsCopied} objects copied, ${r.objectsSkipped} skipped, ${formatBytes(r.bytesCopied)} copied in S3`);
  if (r.modelArn) parts.push(`model ${r.modelArn}`);
  if (r.provisionedModelArn) parts.push(`provisioned throughput ${r.provisionedModelArn}`);
  return parts.join('; ');
}

export function summaryMarkdown(plan: PromotionPlan, targets: TargetResult[], failed: FailedRegion[]): string {
  const lines = [
    `### Promotion of ${plan.deployment.name}: ${plan.source.name} → ${plan.target.name}`,
    '',
    '| Account | Region | Image | Blobs copied / skipped | Bytes moved | Objects copied / skipped | S3 bytes copied | Bedrock model | Time |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of targets) {
    lines.push(
      `| ${t.account} | ${t.region} | ${t.image ? `${t.image}${t.digest ? ` \`${t.digest.slice(0, 19)}…\`` : ''}` : '-'} | ${t.image ? `${t.blobsCopied} / ${t.blobsSkipped}` : '-'} | ${t.image ? formatBytes(t.bytesMoved) : '-'} | ${t.modelDataUrl ? `${t.objectsCopied} / ${t.objectsSkipped}` : '-'} | ${t.modelDataUrl ? formatBytes(t.bytesCopied) : '-'} | ${t.modelArn ? `${t.modelArn}${t.provisionedModelArn ? ` (provisioned: ${t.provisionedModelArn})` : ''}` : '-'} | ${t.seconds.toFixed(1)} s |`,
    );
  }
  for (const f of failed) {
    const state = f.imageInPlace ? 'image in place, weights or model not; re-run to finish' : 'nothing tagged; re-run to finish';
    lines.push(`| ${plan.target.env.account} | ${f.region} | **failed** (${state}) | | | | | | |`);
  }
  return `${lines.join('\n')}\n`;
}
